"""What ``fedi demo`` publishes on its three networks: partner offers and requests, experiences
and forum discussions, each written in the network's language with an English translation,
tagged with the vocabularies' codes. Deadlines are days from the day the demo is seeded."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

__all__ = ["NETWORKS", "Network"]


@dataclass(frozen=True)
class Network:
    country: str
    language: str
    name: str
    members: tuple[str, ...]
    offers: tuple[dict[str, Any], ...]
    experiences: tuple[dict[str, Any], ...]
    discussions: tuple[dict[str, Any], ...] = field(default=())

    def offer_payloads(self, today: date) -> list[dict[str, Any]]:
        """The offers as ``POST /api/v1/offers`` bodies, their deadlines counted from ``today``."""
        payloads = []
        for offer in self.offers:
            body = {key: value for key, value in offer.items() if key != "deadline_in_days"}
            deadline = today + timedelta(days=int(offer["deadline_in_days"]))
            body["funding"] = {**body.get("funding", {}), "call_deadline": deadline.isoformat()}
            body.setdefault("status", "published")
            payloads.append(body)
        return payloads


_PL_ORG = {"name": "Fundacja Aktywni Razem", "type": "ngo-civil-society", "country": "PL"}
_IT_ORG = {"name": "Cooperativa Sociale Il Ponte", "type": "social-economy-enterprise"}
_DE_ORG = {"name": "Jobcenter Leipzig", "type": "public-employment-service", "country": "DE"}

POLAND = Network(
    country="PL",
    language="pl",
    name="EFS+ Polska",
    members=("anna", "piotr"),
    offers=(
        {
            "purpose": "offer",
            "level": "project",
            "cooperation": ["transfer-of-practice", "seek-partners"],
            "language": "pl",
            "title": "Mentoring dla młodzieży NEET w małych miastach",
            "summary": "Przenosimy sprawdzoną metodę mentoringu rówieśniczego i szukamy dwóch "
            "partnerów z Włoch lub Hiszpanii.",
            "description": "Od 2021 roku prowadzimy program, w którym **mentorzy** spotykają się "
            "co tydzień z młodymi ludźmi, którzy nie uczą się i nie pracują.\n\n"
            "- 240 uczestników\n- 62% podjęło pracę lub naukę w ciągu 6 miesięcy",
            "translations": {
                "en": {
                    "title": "Mentoring for NEET youth in small towns",
                    "summary": "We transfer a proven peer-mentoring method and seek two "
                    "partners from Italy or Spain.",
                    "description": "Since 2021 our **mentors** meet young people who are "
                    "not in employment, education or training every week.",
                }
            },
            "working_languages": ["pl", "en"],
            "objectives": ["a", "f"],
            "themes": ["youth-employment", "social-inclusion"],
            "target_groups": ["youth-neet"],
            "keywords": ["mentoring", "peer learning"],
            "organisation": {**_PL_ORG, "region": "Mazowieckie", "city": "Radom"},
            "countries_sought": ["IT", "ES"],
            "organisation_types_sought": ["public-employment-service", "ngo-civil-society"],
            "roles_sought": ["partner"],
            "partners_needed": 2,
            "funding": {
                "programme": "EFS+ FERS",
                "duration_months": 24,
                "currency": "EUR",
                "budget_min": 150000,
                "budget_max": 300000,
            },
            "deadline_in_days": 75,
        },
        {
            "purpose": "request",
            "level": "project",
            "cooperation": ["peer-learning"],
            "language": "pl",
            "title": "Szukamy doświadczeń w aktywizacji osób 55+",
            "summary": "Powiatowy urząd pracy szuka partnera, który prowadził programy "
            "powrotu na rynek pracy dla osób starszych.",
            "description": "Chcemy poznać metody pracy z pracodawcami i wizyty studyjne.",
            "translations": {
                "en": {
                    "title": "Seeking experience in activating people aged 55+",
                    "summary": "A district labour office seeks a partner who ran "
                    "return-to-work programmes for older workers.",
                    "description": "We want to learn methods of working with employers.",
                }
            },
            "working_languages": ["pl", "en", "de"],
            "objectives": ["a", "c"],
            "themes": ["employment-education-skills"],
            "target_groups": ["older-workers-55-plus", "long-term-unemployed"],
            "organisation": {
                "name": "Powiatowy Urząd Pracy w Lublinie",
                "type": "public-employment-service",
                "country": "PL",
                "city": "Lublin",
            },
            "countries_sought": ["DE", "AT"],
            "roles_sought": ["partner", "advisory"],
            "partners_needed": 1,
            "funding": {"programme": "EFS+ FEL 2021-2027"},
            "deadline_in_days": 40,
        },
    ),
    experiences=(
        {
            "kind": "experience",
            "language": "pl",
            "title": "Spółdzielnie socjalne jako pierwszy pracodawca",
            "summary": "Jak trzy gminy zatrudniły 80 osób długotrwale bezrobotnych w "
            "spółdzielniach socjalnych.",
            "body": "## Co zrobiliśmy\n\nGminy przekazały spółdzielniom zlecenia na usługi "
            "opiekuńcze i porządkowe.\n\n## Wyniki\n\n80 miejsc pracy w ciągu dwóch lat.",
            "country": "PL",
            "objectives": ["h"],
            "themes": ["social-economy", "social-inclusion"],
            "target_groups": ["long-term-unemployed"],
            "tags": ["ekonomiaspoleczna"],
        },
        {
            "kind": "resource",
            "language": "pl",
            "title": "Lista kontrolna: projekt ponadnarodowy krok po kroku",
            "summary": "Co przygotować przed złożeniem wniosku z partnerem zagranicznym.",
            "body": "## Przed naborem\n\n- Partner i jego rola\n- List intencyjny\n"
            "- Budżet z kosztami podróży\n\n## Po podpisaniu umowy\n\n"
            "- Porozumienie o współpracy ponadnarodowej\n- Plan wizyt studyjnych",
            "translations": {
                "en": {
                    "title": "Checklist: a transnational project step by step",
                    "summary": "What to prepare before applying with a partner abroad.",
                    "body": "## Before the call\n\n- The partner and its role\n"
                    "- A letter of intent\n- A budget with travel costs",
                }
            },
            "country": "PL",
            "objectives": ["h"],
            "themes": ["partnership"],
            "target_groups": ["long-term-unemployed"],
        },
    ),
    discussions=(
        {
            "title": "Jak rozliczać koszty podróży partnerów zagranicznych?",
            "body": "Czy ktoś rozliczał już koszty wizyt studyjnych partnerów w EFS+? "
            "Stawki ryczałtowe czy faktyczne koszty?",
            "language": "pl",
            "replies": [
                "Stosowaliśmy stawki jednostkowe z rozporządzenia delegowanego: "
                "działa dobrze i upraszcza kontrolę."
            ],
        },
    ),
)

ITALY = Network(
    country="IT",
    language="it",
    name="FSE+ Italia",
    members=("giulia", "marco"),
    offers=(
        {
            "purpose": "request",
            "level": "project",
            "cooperation": ["join-a-project", "transfer-of-practice"],
            "language": "it",
            "title": "Cerchiamo partner per l'integrazione dei migranti nel lavoro agricolo",
            "summary": "Una cooperativa sociale pugliese cerca partner per percorsi di "
            "formazione e inserimento lavorativo di cittadini di paesi terzi.",
            "description": "Vogliamo unire **formazione linguistica** e tirocini nelle "
            "aziende agricole del territorio.",
            "translations": {
                "en": {
                    "title": "Partners sought for migrant integration in farm work",
                    "summary": "A social cooperative in Apulia seeks partners for training "
                    "and job placement of third-country nationals.",
                    "description": "We combine **language training** with traineeships "
                    "on local farms.",
                }
            },
            "working_languages": ["it", "en"],
            "objectives": ["i", "h"],
            "themes": ["migrant-integration", "employment-education-skills"],
            "target_groups": ["migrants-third-country-nationals", "refugees-displaced"],
            "keywords": ["agricoltura", "tirocini"],
            "organisation": {**_IT_ORG, "country": "IT", "region": "Puglia", "city": "Foggia"},
            "countries_sought": ["PL", "DE", "ES"],
            "organisation_types_sought": ["ngo-civil-society", "education-training-provider"],
            "roles_sought": ["partner", "lead"],
            "partners_needed": 3,
            "funding": {"programme": "FSE+ PN Inclusione", "duration_months": 30},
            "deadline_in_days": 60,
        },
        {
            "purpose": "offer",
            "level": "programme",
            "cooperation": ["programme-to-programme", "peer-learning"],
            "language": "it",
            "title": "Scambio tra autorità di gestione sulla semplificazione dei costi",
            "summary": "Offriamo il nostro metodo di opzioni semplificate in materia di costi "
            "ad altre autorità di gestione.",
            "description": "Due giornate di lavoro con le autorità di gestione interessate.",
            "translations": {
                "en": {
                    "title": "Exchange between managing authorities on simplified costs",
                    "summary": "We offer our method for simplified cost options to other "
                    "managing authorities.",
                    "description": "Two working days with interested managing authorities.",
                }
            },
            "working_languages": ["it", "en"],
            "objectives": ["a"],
            "themes": ["simplification", "governance-public-administration"],
            "target_groups": ["employed-self-employed"],
            "organisation": {
                "name": "Regione Emilia-Romagna, Autorità di Gestione FSE+",
                "type": "managing-authority-or-intermediate-body",
                "country": "IT",
                "city": "Bologna",
            },
            "countries_sought": [],
            "organisation_types_sought": ["managing-authority-or-intermediate-body"],
            "funding": {"programme": "FSE+ Emilia-Romagna"},
            "deadline_in_days": 90,
        },
    ),
    experiences=(
        {
            "kind": "experience",
            "language": "it",
            "title": "Sportelli di orientamento per giovani nelle biblioteche",
            "summary": "Come le biblioteche comunali sono diventate punti di primo contatto "
            "per i giovani NEET.",
            "body": "Gli operatori dei centri per l'impiego ricevono i giovani due pomeriggi "
            "a settimana nelle biblioteche.",
            "country": "IT",
            "objectives": ["a", "f"],
            "themes": ["youth-employment"],
            "target_groups": ["youth-neet"],
        },
    ),
    discussions=(
        {
            "title": "Indicatori di risultato per la Garanzia Giovani",
            "body": "Quali indicatori usate per misurare l'occupazione a sei mesi?",
            "language": "it",
            "replies": [],
        },
    ),
)

GERMANY = Network(
    country="DE",
    language="de",
    name="ESF Plus Deutschland",
    members=("lena", "jonas"),
    offers=(
        {
            "purpose": "offer",
            "level": "project",
            "cooperation": ["seek-partners", "transfer-of-practice"],
            "language": "de",
            "title": "Jobcoaching für Langzeitarbeitslose mit Arbeitgebern im Tandem",
            "summary": "Wir übertragen unser Tandem-Modell aus Jobcoach und Betrieb und suchen "
            "Partner aus Polen und Italien.",
            "description": "Jede teilnehmende Person hat einen **Jobcoach** und eine feste "
            "Ansprechperson im Betrieb.",
            "translations": {
                "en": {
                    "title": "Job coaching for the long-term unemployed in tandem with employers",
                    "summary": "We transfer our tandem model of job coach and employer and "
                    "seek partners from Poland and Italy.",
                    "description": "Each participant has a **job coach** and a named contact "
                    "at the employer.",
                }
            },
            "working_languages": ["de", "en"],
            "objectives": ["a"],
            "themes": ["employment-education-skills", "social-inclusion"],
            "target_groups": ["long-term-unemployed", "older-workers-55-plus"],
            "keywords": ["Jobcoaching"],
            "organisation": {**_DE_ORG, "region": "Sachsen", "city": "Leipzig"},
            "countries_sought": ["PL", "IT"],
            "organisation_types_sought": ["public-employment-service"],
            "roles_sought": ["partner"],
            "partners_needed": 2,
            "funding": {
                "programme": "ESF Plus Bund",
                "call_reference": "ESF-BUND-2027-03",
                "duration_months": 36,
                "budget_max": 500000,
                "currency": "EUR",
            },
            "deadline_in_days": 50,
        },
        {
            "purpose": "request",
            "level": "project",
            "cooperation": ["join-a-project"],
            "language": "de",
            "title": "Partner gesucht: digitale Grundbildung für Geflüchtete",
            "summary": "Eine Volkshochschule sucht ein Projekt, dem sie sich als Partner für "
            "digitale Grundbildung anschließen kann.",
            "description": "Wir bringen Kurse in einfacher Sprache und Erfahrung mit "
            "Lernplattformen mit.",
            "translations": {
                "en": {
                    "title": "Partner sought: basic digital skills for refugees",
                    "summary": "An adult education centre seeks a project to join as a "
                    "partner for basic digital skills.",
                    "description": "We bring courses in plain language and experience with "
                    "learning platforms.",
                }
            },
            "working_languages": ["de", "en"],
            "objectives": ["g", "h"],
            "themes": ["migrant-integration", "employment-education-skills"],
            "target_groups": ["refugees-displaced", "low-skilled"],
            "organisation": {
                "name": "Volkshochschule Dresden",
                "type": "education-training-provider",
                "country": "DE",
                "city": "Dresden",
            },
            "countries_sought": [],
            "roles_sought": ["partner", "associated"],
            "funding": {"programme": "ESF Plus Sachsen"},
            "deadline_in_days": 30,
        },
    ),
    experiences=(
        {
            "kind": "resource",
            "language": "de",
            "title": "Mustervereinbarung für transnationale Kooperation",
            "summary": "Eine Vorlage für die Kooperationsvereinbarung zwischen Partnern aus "
            "mehreren Ländern, mit Erläuterungen.",
            "body": "## Inhalt\n\n1. Ziele und Aufgaben\n2. Finanzen\n3. Kommunikation\n"
            "4. Geistiges Eigentum",
            "country": "DE",
            "objectives": ["a"],
            "themes": ["partnership"],
            "target_groups": ["employed-self-employed"],
        },
    ),
    discussions=(
        {
            "title": "Erfahrungen mit Dolmetschen bei Studienbesuchen?",
            "body": "Wie organisiert ihr das Dolmetschen bei Besuchen mit drei Sprachen?",
            "language": "de",
            "replies": [
                "Wir arbeiten mit Englisch als Brückensprache und einer Dolmetscherin "
                "für die Abschlussrunde."
            ],
        },
    ),
)

NETWORKS = (POLAND, ITALY, GERMANY)
