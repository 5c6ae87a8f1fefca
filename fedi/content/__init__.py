"""Content objects (notes, articles, pages): the one service that writes them."""
