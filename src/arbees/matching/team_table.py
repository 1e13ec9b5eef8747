"""The raw NBA and NHL team tables the alias index is built from.

Kept apart from the lookup logic so the data can be audited (and extended when a venue
invents a new code) without reading code. Each row is::

    (code, kalshi_code, cities, nickname, extra_aliases)

- ``code``: our canonical abbreviation; the canonical team id is ``"{LEAGUE}:{code}"``.
- ``kalshi_code``: the code Kalshi uses in its game tickers (``KXNHLGAME-...-LA``).
- ``cities``: the spellings of the city/region; the first is the official one. A city that
  two teams of one league share ("Los Angeles" in the NBA, "New York" in the NHL) is
  dropped automatically as ambiguous — it never resolves on its own.
- ``nickname``: the official nickname (Polymarket outcomes are usually just this).
- ``extra_aliases``: other codes and names seen on the venues or in common use, including
  Kalshi's ``yes_sub_title`` forms such as ``"Los Angeles C"``. These must be unique within
  the league (checked when the index is built).

Case, accents, punctuation and "Saint"/"St." are normalized before lookup, so "Montréal",
"MONTREAL" and "montreal" are the same key and "L.A." equals "LA".
"""

from __future__ import annotations

__all__ = ["NBA_ROWS", "NHL_ROWS", "TeamRow"]

TeamRow = tuple[str, str, tuple[str, ...], str, tuple[str, ...]]

NBA_ROWS: tuple[TeamRow, ...] = (
    ("ATL", "ATL", ("Atlanta",), "Hawks", ()),
    ("BOS", "BOS", ("Boston",), "Celtics", ()),
    ("BKN", "BKN", ("Brooklyn",), "Nets", ("BRK", "BK", "BKLYN")),
    ("CHA", "CHA", ("Charlotte",), "Hornets", ("CHO", "CHH")),
    ("CHI", "CHI", ("Chicago",), "Bulls", ()),
    ("CLE", "CLE", ("Cleveland",), "Cavaliers", ("Cavs",)),
    ("DAL", "DAL", ("Dallas",), "Mavericks", ("Mavs",)),
    ("DEN", "DEN", ("Denver",), "Nuggets", ()),
    ("DET", "DET", ("Detroit",), "Pistons", ()),
    ("GSW", "GSW", ("Golden State",), "Warriors", ("GS", "GST", "Dubs")),
    ("HOU", "HOU", ("Houston",), "Rockets", ()),
    ("IND", "IND", ("Indiana",), "Pacers", ()),
    ("LAC", "LAC", ("Los Angeles", "LA"), "Clippers", ("Los Angeles C", "LA C", "Clips")),
    ("LAL", "LAL", ("Los Angeles", "LA"), "Lakers", ("Los Angeles L", "LA L")),
    ("MEM", "MEM", ("Memphis",), "Grizzlies", ("Grizz",)),
    ("MIA", "MIA", ("Miami",), "Heat", ()),
    ("MIL", "MIL", ("Milwaukee",), "Bucks", ()),
    ("MIN", "MIN", ("Minnesota",), "Timberwolves", ("Wolves", "T Wolves", "Twolves")),
    ("NOP", "NOP", ("New Orleans", "NOLA"), "Pelicans", ("NO", "NOR", "Pels")),
    ("NYK", "NYK", ("New York", "NY"), "Knicks", ("NYC",)),
    ("OKC", "OKC", ("Oklahoma City", "Oklahoma"), "Thunder", ()),
    ("ORL", "ORL", ("Orlando",), "Magic", ()),
    ("PHI", "PHI", ("Philadelphia", "Philly"), "76ers", ("Sixers", "PHL", "Seventy Sixers")),
    ("PHX", "PHX", ("Phoenix",), "Suns", ("PHO",)),
    ("POR", "POR", ("Portland",), "Trail Blazers", ("Blazers", "Trailblazers")),
    ("SAC", "SAC", ("Sacramento",), "Kings", ()),
    ("SAS", "SAS", ("San Antonio",), "Spurs", ("SA",)),
    ("TOR", "TOR", ("Toronto",), "Raptors", ("Raps",)),
    ("UTA", "UTA", ("Utah",), "Jazz", ("UTAH", "UTH")),
    ("WAS", "WAS", ("Washington",), "Wizards", ("WSH", "WSN", "Wiz")),
)

NHL_ROWS: tuple[TeamRow, ...] = (
    ("ANA", "ANA", ("Anaheim",), "Ducks", ()),
    ("BOS", "BOS", ("Boston",), "Bruins", ()),
    ("BUF", "BUF", ("Buffalo",), "Sabres", ()),
    ("CGY", "CGY", ("Calgary",), "Flames", ("CAL",)),
    ("CAR", "CAR", ("Carolina",), "Hurricanes", ("Canes",)),
    ("CHI", "CHI", ("Chicago",), "Blackhawks", ()),
    ("COL", "COL", ("Colorado",), "Avalanche", ("Avs",)),
    ("CBJ", "CBJ", ("Columbus",), "Blue Jackets", ("CLB", "CLS", "CMB", "Jackets")),
    ("DAL", "DAL", ("Dallas",), "Stars", ()),
    ("DET", "DET", ("Detroit",), "Red Wings", ("Wings",)),
    ("EDM", "EDM", ("Edmonton",), "Oilers", ()),
    ("FLA", "FLA", ("Florida",), "Panthers", ("FLO", "FL")),
    ("LAK", "LA", ("Los Angeles", "LA"), "Kings", ()),
    ("MIN", "MIN", ("Minnesota",), "Wild", ()),
    ("MTL", "MTL", ("Montréal",), "Canadiens", ("MON", "MTR", "Habs")),
    ("NSH", "NSH", ("Nashville",), "Predators", ("NAS", "Preds")),
    ("NJD", "NJ", ("New Jersey",), "Devils", ("NJ",)),
    (
        "NYI",
        "NYI",
        ("New York", "NY"),
        "Islanders",
        ("New York I", "NY I", "NY Islanders", "Isles"),
    ),
    ("NYR", "NYR", ("New York", "NY"), "Rangers", ("New York R", "NY R", "NY Rangers")),
    ("OTT", "OTT", ("Ottawa",), "Senators", ("Sens",)),
    ("PHI", "PHI", ("Philadelphia", "Philly"), "Flyers", ("PHL",)),
    ("PIT", "PIT", ("Pittsburgh",), "Penguins", ("Pens",)),
    ("SJS", "SJ", ("San Jose",), "Sharks", ("SJ",)),
    ("SEA", "SEA", ("Seattle",), "Kraken", ()),
    ("STL", "STL", ("St. Louis",), "Blues", ()),
    ("TBL", "TB", ("Tampa Bay", "Tampa"), "Lightning", ("TB", "Bolts")),
    ("TOR", "TOR", ("Toronto",), "Maple Leafs", ("Leafs",)),
    # The franchise played 2024-25 as "Utah Hockey Club" before becoming the Mammoth.
    ("UTA", "UTA", ("Utah",), "Mammoth", ("UTAH", "UTH", "Utah Hockey Club", "Utah HC")),
    ("VAN", "VAN", ("Vancouver",), "Canucks", ()),
    ("VGK", "VGK", ("Vegas", "Las Vegas"), "Golden Knights", ("VEG", "VGS", "LV", "Knights")),
    ("WSH", "WSH", ("Washington",), "Capitals", ("WAS", "WSN", "Caps")),
    ("WPG", "WPG", ("Winnipeg",), "Jets", ("WIN", "WPJ")),
)
