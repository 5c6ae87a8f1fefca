"""The pages people use: layout, templates, static files, translations and error pages."""
