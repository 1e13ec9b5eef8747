"""Country names and ISO 3166-1 alpha-2 codes: one table, so every egress source agrees.

Egress sources disagree on how they name a country. Gluetun's control server answers a NAME
taken from its own table ("United Kingdom", "Korea", "Russian Federation", "Czech Republic",
and passes a bare code through when it has no name for it); ipinfo-style services answer the
ISO code ("GB"); MaxMind/ip2location-backed services answer yet other spellings ("Czechia",
"Türkiye", "Korea (Republic of)", "United Kingdom of Great Britain and Northern Ireland").
A policy written as ``US`` must catch all of them, so everything is normalized to the ISO
3166-1 alpha-2 code before a decision is made.

Matching is forgiving about form but never guesses: case, accents, punctuation, ``&`` vs
``and`` and a leading "the" are ignored ("cote d’ivoire" == "Côte d'Ivoire"), but a name that
is not in the table is *unknown* — the egress guard treats that as unverified (fail closed)
instead of picking the nearest spelling.

The table holds all 249 officially assigned codes plus ``XK`` (Kosovo, user-assigned but
answered by ipinfo and MaxMind).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Final

from arbees.errors import ConfigError

__all__ = [
    "COUNTRY_NAMES",
    "country_label",
    "normalize_country",
    "parse_country_list",
]

# code | canonical English short name | other spellings seen in the wild (Gluetun's table,
# ipinfo, MaxMind, ip2location, common usage). One country per entry; a line starting with
# "|" continues the entry above.
_TABLE: Final = """
AD|Andorra
AE|United Arab Emirates|UAE
AF|Afghanistan
AG|Antigua and Barbuda
AI|Anguilla
AL|Albania
AM|Armenia
AO|Angola
AQ|Antarctica
AR|Argentina
AS|American Samoa
AT|Austria
AU|Australia
AW|Aruba
AX|Åland Islands|Aland
AZ|Azerbaijan
BA|Bosnia and Herzegovina|Bosnia|Bosnia-Herzegovina
BB|Barbados
BD|Bangladesh
BE|Belgium
BF|Burkina Faso
BG|Bulgaria
BH|Bahrain
BI|Burundi
BJ|Benin
BL|Saint Barthélemy|St Barthelemy|St. Barts
BM|Bermuda
BN|Brunei Darussalam|Brunei
BO|Bolivia|Bolivia (Plurinational State of)|Plurinational State of Bolivia
BQ|Bonaire, Sint Eustatius and Saba|Bonaire|Caribbean Netherlands
BR|Brazil
BS|Bahamas
BT|Bhutan
BV|Bouvet Island
BW|Botswana
BY|Belarus
BZ|Belize
CA|Canada
CC|Cocos (Keeling) Islands|Cocos Islands|Keeling Islands
CD|Democratic Republic of the Congo|Congo, Democratic Republic of the
  |Congo, The Democratic Republic of the|Congo (Democratic Republic of the)
  |DR Congo|DRC|Congo-Kinshasa|Congo (Kinshasa)
CF|Central African Republic
CG|Congo|Republic of the Congo|Congo-Brazzaville|Congo (Brazzaville)|Congo Republic
CH|Switzerland
CI|Côte d'Ivoire|Ivory Coast
CK|Cook Islands
CL|Chile
CM|Cameroon
CN|China|People's Republic of China|PRC
CO|Colombia
CR|Costa Rica
CU|Cuba
CV|Cabo Verde|Cape Verde
CW|Curaçao
CX|Christmas Island
CY|Cyprus
CZ|Czechia|Czech Republic
DE|Germany|Deutschland
DJ|Djibouti
DK|Denmark
DM|Dominica
DO|Dominican Republic
DZ|Algeria
EC|Ecuador
EE|Estonia
EG|Egypt
EH|Western Sahara
ER|Eritrea
ES|Spain
ET|Ethiopia
FI|Finland
FJ|Fiji
FK|Falkland Islands|Falkland Islands (Malvinas)
FM|Micronesia|Micronesia (Federated States of)|Federated States of Micronesia
  |Micronesia, Federated States of
FO|Faroe Islands|Faeroe Islands
FR|France
GA|Gabon
GB|United Kingdom|UK|U.K.|Great Britain|Britain|England|Scotland|Wales|Northern Ireland
  |United Kingdom of Great Britain and Northern Ireland
GD|Grenada
GE|Georgia
GF|French Guiana
GG|Guernsey
GH|Ghana
GI|Gibraltar
GL|Greenland
GM|Gambia
GN|Guinea
GP|Guadeloupe
GQ|Equatorial Guinea
GR|Greece
GS|South Georgia and the South Sandwich Islands
GT|Guatemala
GU|Guam
GW|Guinea-Bissau
GY|Guyana
HK|Hong Kong|Hong Kong SAR
HM|Heard Island and McDonald Islands
HN|Honduras
HR|Croatia
HT|Haiti
HU|Hungary
ID|Indonesia
IE|Ireland|Republic of Ireland
IL|Israel
IM|Isle of Man
IN|India
IO|British Indian Ocean Territory
IQ|Iraq
IR|Iran|Iran (Islamic Republic of)|Islamic Republic of Iran|Iran, Islamic Republic of
IS|Iceland
IT|Italy
JE|Jersey
JM|Jamaica
JO|Jordan
JP|Japan
KE|Kenya
KG|Kyrgyzstan|Kyrgyz Republic
KH|Cambodia
KI|Kiribati
KM|Comoros
KN|Saint Kitts and Nevis|St Kitts and Nevis
KP|North Korea|Korea (Democratic People's Republic of)|Democratic People's Republic of Korea
  |Korea, Democratic People's Republic of|DPRK
KR|South Korea|Korea|Republic of Korea|Korea (Republic of)|Korea, Republic of
KW|Kuwait
KY|Cayman Islands
KZ|Kazakhstan
LA|Laos|Lao People's Democratic Republic|Lao PDR
LB|Lebanon
LC|Saint Lucia|St Lucia
LI|Liechtenstein
LK|Sri Lanka
LR|Liberia
LS|Lesotho
LT|Lithuania
LU|Luxembourg
LV|Latvia
LY|Libya
MA|Morocco
MC|Monaco
MD|Moldova|Republic of Moldova|Moldova, Republic of|Moldova (Republic of)
ME|Montenegro
MF|Saint Martin|Saint Martin (French part)|St Martin
MG|Madagascar
MH|Marshall Islands
MK|North Macedonia|Macedonia|Republic of North Macedonia|FYROM
ML|Mali
MM|Myanmar|Burma
MN|Mongolia
MO|Macao|Macau
MP|Northern Mariana Islands
MQ|Martinique
MR|Mauritania
MS|Montserrat
MT|Malta
MU|Mauritius
MV|Maldives
MW|Malawi
MX|Mexico
MY|Malaysia
MZ|Mozambique
NA|Namibia
NC|New Caledonia
NE|Niger
NF|Norfolk Island
NG|Nigeria
NI|Nicaragua
NL|Netherlands|Holland|Netherlands (Kingdom of the)|Kingdom of the Netherlands
NO|Norway
NP|Nepal
NR|Nauru
NU|Niue
NZ|New Zealand
OM|Oman
PA|Panama
PE|Peru
PF|French Polynesia
PG|Papua New Guinea
PH|Philippines
PK|Pakistan
PL|Poland
PM|Saint Pierre and Miquelon
PN|Pitcairn|Pitcairn Islands
PR|Puerto Rico
PS|Palestine|State of Palestine|Palestine, State of|Palestinian Territory|Palestinian Territories
PT|Portugal
PW|Palau
PY|Paraguay
QA|Qatar
RE|Réunion
RO|Romania
RS|Serbia
RU|Russia|Russian Federation
RW|Rwanda
SA|Saudi Arabia
SB|Solomon Islands
SC|Seychelles
SD|Sudan
SE|Sweden
SG|Singapore
SH|Saint Helena|Saint Helena, Ascension and Tristan da Cunha
SI|Slovenia
SJ|Svalbard and Jan Mayen
SK|Slovakia|Slovak Republic
SL|Sierra Leone
SM|San Marino
SN|Senegal
SO|Somalia
SR|Suriname
SS|South Sudan
ST|São Tomé and Príncipe
SV|El Salvador
SX|Sint Maarten|Sint Maarten (Dutch part)
SY|Syria|Syrian Arab Republic
SZ|Eswatini|Swaziland
TC|Turks and Caicos Islands
TD|Chad
TF|French Southern Territories|French Southern and Antarctic Lands
TG|Togo
TH|Thailand
TJ|Tajikistan
TK|Tokelau
TL|Timor-Leste|East Timor
TM|Turkmenistan
TN|Tunisia
TO|Tonga
TR|Türkiye|Turkey
TT|Trinidad and Tobago
TV|Tuvalu
TW|Taiwan|Taiwan (Province of China)|Taiwan, Province of China
TZ|Tanzania|United Republic of Tanzania|Tanzania, United Republic of
UA|Ukraine
UG|Uganda
UM|United States Minor Outlying Islands|U.S. Minor Outlying Islands
US|United States|United States of America|USA|U.S.A.|U.S.|America
UY|Uruguay
UZ|Uzbekistan
VA|Holy See|Vatican City|Vatican City State|Vatican|Holy See (Vatican City State)
VC|Saint Vincent and the Grenadines|St Vincent and the Grenadines
VE|Venezuela|Venezuela (Bolivarian Republic of)|Bolivarian Republic of Venezuela
VG|British Virgin Islands|Virgin Islands (British)|Virgin Islands, British
VI|US Virgin Islands|U.S. Virgin Islands|Virgin Islands (U.S.)|Virgin Islands, U.S.
VN|Vietnam|Viet Nam
VU|Vanuatu
WF|Wallis and Futuna
WS|Samoa
XK|Kosovo
YE|Yemen
YT|Mayotte
ZA|South Africa
ZM|Zambia
ZW|Zimbabwe
"""

_DROP: Final = re.compile(r"[.,'’`()\[\]\"]")
_SPACE: Final = re.compile(r"[\s\-_/]+")


def _key(text: str) -> str:
    """Fold a country spelling to a comparison key (case, accents, punctuation ignored)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    plain = plain.replace("&", " and ").replace("ı", "i")
    plain = _SPACE.sub(" ", _DROP.sub("", plain)).strip()
    return plain.removeprefix("the ")


def _build() -> tuple[dict[str, str], dict[str, str]]:
    names: dict[str, str] = {}
    index: dict[str, str] = {}
    for line in _TABLE.strip().replace("\n  |", "|").splitlines():
        code, canonical, *aliases = line.split("|")
        names[code] = canonical
        for spelling in (canonical, *aliases):
            key = _key(spelling)
            if index.setdefault(key, code) != code:  # pragma: no cover - table invariant
                raise AssertionError(f"country spelling {spelling!r} maps to two codes")
    return names, index


_BUILT: Final = _build()
COUNTRY_NAMES: Final[dict[str, str]] = _BUILT[0]
"""ISO 3166-1 alpha-2 code -> canonical English short name (all 249 codes plus XK)."""
_INDEX: Final[dict[str, str]] = _BUILT[1]


def normalize_country(value: str) -> str | None:
    """Return the ISO alpha-2 code for a country code or name, or ``None`` when unknown.

    >>> normalize_country("gb"), normalize_country("United Kingdom"), normalize_country("UK")
    ('GB', 'GB', 'GB')
    >>> normalize_country("Atlantis") is None
    True
    """
    text = value.strip()
    if len(text) == 2 and text.isascii() and text.isalpha():
        code = text.upper()
        if code in COUNTRY_NAMES:
            return code
    return _INDEX.get(_key(text)) if text else None


def country_label(code: str | None) -> str:
    """``"GB"`` -> ``"GB (United Kingdom)"`` for messages; unknown/None pass through."""
    if code is None:
        return "unknown"
    name = COUNTRY_NAMES.get(code)
    return f"{code} ({name})" if name else code


def parse_country_list(value: str | Iterable[str], *, setting: str = "countries") -> frozenset[str]:
    """Parse ``"US, United Kingdom"`` (or an iterable of entries) into ISO codes.

    Names containing commas ("Korea, Republic of") cannot be written in a comma list: use
    the code. An unknown entry is a :class:`ConfigError` naming ``setting`` — a typo in a
    policy must stop the program, not silently weaken it.
    """
    entries = value.split(",") if isinstance(value, str) else list(value)
    codes: set[str] = set()
    for raw in entries:
        entry = raw.strip()
        if not entry:
            continue
        code = normalize_country(entry)
        if code is None:
            raise ConfigError(
                f"{setting}: unknown country {entry!r} (use ISO 3166-1 alpha-2 codes such as "
                "US, GB, NL, or English names)"
            )
        codes.add(code)
    return frozenset(codes)
