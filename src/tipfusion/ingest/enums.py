"""Exact wire values of the CyberTipline enumerations (shared/reference/ncmec-report-format.md §5)."""

INCIDENT_TYPES = frozenset(
    {
        "Child Pornography (possession, manufacture, and distribution)",
        "Child Sex Trafficking",
        "Child Sex Tourism",
        "Child Sexual Molestation",
        "Misleading Domain Name",
        "Misleading Words or Digital Images on the Internet",
        "Online Enticement of Children for Sexual Acts",
        "Unsolicited Obscene Material Sent to a Child",
    }
)
REPORT_ANNOTATIONS = frozenset(
    {
        "sextortion",
        "csamSolicitation",
        "minorToMinorInteraction",
        "spam",
        "sadisticOnlineExploitation",
    }
)
FILE_ANNOTATIONS = frozenset(
    {
        "animeDrawingVirtualHentai",
        "potentialMeme",
        "viral",
        "possibleSelfProduction",
        "physicalHarm",
        "violenceGore",
        "bestiality",
        "liveStreaming",
        "infant",
        "generativeAi",
    }
)
EVENT_NAMES = frozenset({"Login", "Registration", "Purchase", "Upload", "Other", "Unknown"})
FILE_RELEVANCE = frozenset({"Reported", "Supplemental Reported"})
INDUSTRY_CLASSIFICATIONS = frozenset({"A1", "A2", "B1", "B2"})
# the store's columns for a file's relevance and classification: a wider unknown value is refused at parse time
FILE_RELEVANCE_WIDTH = 40
INDUSTRY_CLASSIFICATION_WIDTH = 8
DETAILS_TYPES = frozenset({"EXIF", "HASH"})
BATCHED_REASONS = frozenset({"VIRAL_POTENTIAL_MEME"})
PHONE_TYPES = frozenset({"Mobile", "Home", "Business", "Work", "Fax", "Internet", "Recovery"})
EMAIL_TYPES = frozenset({"Home", "Work", "Business", "Recovery"})
ADDRESS_TYPES = frozenset({"Home", "Business", "Billing", "Shipping", "Technical"})
ASSOCIATED_ACCOUNT_TYPES = frozenset({"Billing", "Linked", "Business", "Creator", "Parent/Guardian", "Other"})
INCIDENT_KINDS = frozenset(
    {
        "webPageIncident",
        "emailIncident",
        "newsgroupIncident",
        "chatImIncident",
        "onlineGamingIncident",
        "cellPhoneIncident",
        "nonInternetIncident",
        "peer2peerIncident",
    }
)
LEGACY_COUNTRY_CODES = frozenset({"A1", "A2", "O1", "AP", "EU", "AN", "FX"})
