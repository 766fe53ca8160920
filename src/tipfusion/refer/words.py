"""Codes in words, English and Hindi: what a station officer or an ISP's nodal officer reads instead of
`minor_contact`, `ip_time` or `report_address`.

One mapping for every document (referral Word/PDF, annex, notices). The JSON part keeps the codes (machines read
it); people read these. `tests/test_words.py` derives every code the code base can emit from where it is defined
(triage factors, identifiability reasons, routing bases, the CyberTipline enumerations, identifier kinds, roles)
and fails when one has no words here. An unknown code is shown as it is: never hidden, never guessed.
"""

from __future__ import annotations

from tipfusion.normalise.registry import KINDS

Words = tuple[str, str]  # (English, Hindi)

FACTOR: dict[str, Words] = {
    "most_urgent_report": ("most urgent report", "सबसे अत्यावश्यक रिपोर्ट"),
    "escalated": ("escalated by the reporting company", "रिपोर्ट करने वाली कंपनी द्वारा उच्च प्राथमिकता"),
    "ncmec_priority": ("NCMEC priority level", "एनसीएमईसी प्राथमिकता स्तर"),
    "enticement": ("online enticement of a child", "बालक का ऑनलाइन प्रलोभन"),
    "contact_annotation": ("contact with a child indicated", "बालक से संपर्क का संकेत"),
    "minor_contact": ("a child involved (victim or recipient under 18)", "बालक शामिल (18 वर्ष से कम पीड़ित या प्राप्तकर्ता)"),
    "harm_annotations": ("files marked as serious harm", "गंभीर हानि के रूप में चिह्नित फ़ाइलें"),
    "new_content": ("new material, in no other report", "नई सामग्री, किसी अन्य रिपोर्ट में नहीं"),
    "only_circulating": ("only widely circulated material", "केवल व्यापक रूप से प्रसारित सामग्री"),
    "unknown_content": (
        "material on no known-content hash list: possibly new abuse of a child",
        "किसी ज्ञात-सामग्री हैश सूची में नहीं: संभवतः बालक का नया शोषण",
    ),
    "prior_reports": ("earlier CyberTipline reports referenced", "पूर्व साइबरटिपलाइन रिपोर्टों का संदर्भ"),
    "recent": ("recent activity", "हाल की गतिविधि"),
    "repeat_activity": ("several reports on the same suspect", "एक ही संदिग्ध पर कई रिपोर्टें"),
    "network": ("part of a network of suspects", "संदिग्धों के नेटवर्क का हिस्सा"),
    "identifiable": ("can the suspect be identified", "क्या संदिग्ध की पहचान संभव है"),
    "lead_hits": ("named in another agency's lead", "अन्य एजेंसी की सूचना में नामित"),
    "analyst_pin": ("put first by an analyst", "विश्लेषक द्वारा सबसे ऊपर रखा गया"),
    "analyst_lower": ("lowered by an analyst", "विश्लेषक द्वारा प्राथमिकता घटाई गई"),
}

IDENTIFIABILITY: dict[str, Words] = {
    "not_routable": ("private or reserved address: names no subscriber", "निजी या आरक्षित पता: किसी ग्राहक की पहचान नहीं"),
    "hosting_vpn": (
        "hosting or VPN address: ask the provider for its customer",
        "होस्टिंग या वीपीएन पता: प्रदाता से उसके ग्राहक की जानकारी माँगें",
    ),
    "unknown_isp": ("no ISP known for this address", "इस पते का कोई आईएसपी ज्ञात नहीं"),
    "no_time": ("no time of use given", "उपयोग का समय नहीं दिया गया"),
    "no_zone": ("time given without a time zone", "समय क्षेत्र के बिना समय दिया गया"),
    "cgnat_no_port": (
        "shared mobile address (CGNAT) without a source port",
        "साझा मोबाइल पता (CGNAT), स्रोत पोर्ट के बिना",
    ),
    "cgnat_port_time": (
        "IP, source port and exact time (shared mobile address)",
        "आईपी, स्रोत पोर्ट और सटीक समय (साझा मोबाइल पता)",
    ),
    "ipv6_time": ("IPv6 address and exact time", "IPv6 पता और सटीक समय"),
    "ip_time": ("IP address and exact time", "आईपी पता और सटीक समय"),
}

ANSWER: dict[str, Words] = {"yes": ("yes", "हाँ"), "no": ("no", "नहीं"), "unknown": ("not known", "अज्ञात")}

BASIS: dict[str, Words] = {
    "isp_answer": ("subscriber address from an ISP's answer", "आईएसपी के उत्तर में ग्राहक का पता"),
    "report_address": (
        "address in the report (given to the company, unverified)",
        "रिपोर्ट में दिया गया पता (कंपनी को दिया गया, असत्यापित)",
    ),
    "landline_area": ("area of a landline number", "लैंडलाइन नंबर का क्षेत्र"),
    "esp_location": ("the company's estimate of the location", "कंपनी द्वारा अनुमानित स्थान"),
    "ip_city": ("city estimated from an IP address", "आईपी पते से अनुमानित शहर"),
    "pin_hint": ("PIN code only: the district, not the station", "केवल पिन कोड: ज़िला, थाना नहीं"),
    "analyst override": ("decided by an analyst", "विश्लेषक द्वारा निर्धारित"),
    "central: needs subscriber details": ("central unit: subscriber details needed", "केंद्रीय इकाई: ग्राहक विवरण आवश्यक"),
    "central: conflicting addresses": ("central unit: the addresses disagree", "केंद्रीय इकाई: पते परस्पर विरोधी"),
    "central: outside the jurisdiction": (
        "central unit: address outside the jurisdiction",
        "केंद्रीय इकाई: पता क्षेत्राधिकार से बाहर",
    ),
}

CONFIDENCE: dict[str, Words] = {
    "high": ("high", "उच्च"),
    "medium": ("medium", "मध्यम"),
    "low": ("low", "निम्न"),
    "none": ("none", "कोई नहीं"),
}

# The NCMEC wording stays the English (an officer may hold the NCMEC report beside this one).
INCIDENT_TYPE: dict[str, Words] = {
    "Child Pornography (possession, manufacture, and distribution)": (
        "Child Pornography (possession, manufacture, and distribution)",
        "बाल अश्लील सामग्री (रखना, निर्माण और वितरण)",
    ),
    "Child Sex Trafficking": ("Child Sex Trafficking", "बालकों का यौन दुर्व्यापार"),
    "Child Sex Tourism": ("Child Sex Tourism", "बाल यौन पर्यटन"),
    "Child Sexual Molestation": ("Child Sexual Molestation", "बालक का यौन उत्पीड़न"),
    "Misleading Domain Name": ("Misleading Domain Name", "भ्रामक डोमेन नाम"),
    "Misleading Words or Digital Images on the Internet": (
        "Misleading Words or Digital Images on the Internet",
        "इंटरनेट पर भ्रामक शब्द या डिजिटल चित्र",
    ),
    "Online Enticement of Children for Sexual Acts": (
        "Online Enticement of Children for Sexual Acts",
        "यौन कृत्यों हेतु बालकों का ऑनलाइन प्रलोभन",
    ),
    "Unsolicited Obscene Material Sent to a Child": (
        "Unsolicited Obscene Material Sent to a Child",
        "बालक को भेजी गई अवांछित अश्लील सामग्री",
    ),
}

RELEVANCE: dict[str, Words] = {
    "Reported": ("reported: the file the report is about", "रिपोर्ट की गई फ़ाइल"),
    "Supplemental Reported": ("supplemental: context for the reported file", "पूरक फ़ाइल: रिपोर्ट की गई फ़ाइल का संदर्भ"),
}

ANNOTATION: dict[str, Words] = {
    "sextortion": ("sextortion", "यौन शोषण हेतु धमकी (सेक्सटॉर्शन)"),
    "csamSolicitation": ("soliciting child sexual abuse material", "बाल यौन शोषण सामग्री की माँग"),
    "minorToMinorInteraction": ("interaction between minors", "नाबालिगों के बीच संपर्क"),
    "spam": ("spam", "स्पैम"),
    "sadisticOnlineExploitation": ("sadistic online exploitation", "क्रूर ऑनलाइन शोषण"),
    "animeDrawingVirtualHentai": ("anime, drawing or virtual", "एनीमे, चित्र या आभासी"),
    "potentialMeme": ("possible meme", "संभावित मीम"),
    "viral": ("viral, widely circulated", "वायरल, व्यापक रूप से प्रसारित"),
    "possibleSelfProduction": ("possibly self-produced", "संभवतः स्वयं निर्मित"),
    "physicalHarm": ("physical harm", "शारीरिक हानि"),
    "violenceGore": ("violence or gore", "हिंसा या वीभत्सता"),
    "bestiality": ("bestiality", "पशुगमन"),
    "liveStreaming": ("live streaming", "लाइव स्ट्रीमिंग"),
    "infant": ("infant or toddler", "शिशु"),
    "generativeAi": ("generated by AI", "एआई द्वारा निर्मित"),
}

EVENT: dict[str, Words] = {
    "Login": ("login", "लॉगिन"),
    "Registration": ("registration", "पंजीकरण"),
    "Purchase": ("purchase", "खरीद"),
    "Upload": ("upload", "अपलोड"),
    "Other": ("other", "अन्य"),
    "Unknown": ("unknown", "अज्ञात"),
}

ROLE: dict[str, Words] = {
    "reported": ("reported person", "रिपोर्ट किया गया व्यक्ति"),
    "associated": ("associated account (of the reported person)", "संबद्ध खाता (रिपोर्ट किए गए व्यक्ति का)"),
    "recipient": ("intended recipient", "इच्छित प्राप्तकर्ता"),
    "victim": ("victim", "पीड़ित"),
    "reporter": ("reporter", "रिपोर्टकर्ता"),
    "esp": ("reporting ESP", "रिपोर्ट करने वाली कंपनी"),
    "incident": ("incident (not attributed to a person)", "घटना (किसी व्यक्ति से संबद्ध नहीं)"),
}

KIND: dict[str, Words] = {name: (kind.label, kind.label_hi) for name, kind in KINDS.items()}  # each kind's own

NETWORK_TYPE: dict[str, Words] = {
    "fixed": ("home or office broadband", "घर या कार्यालय ब्रॉडबैंड"),
    "mobile": ("mobile network", "मोबाइल नेटवर्क"),
    "mobile_cgnat": ("mobile network, shared address (CGNAT)", "मोबाइल नेटवर्क, साझा पता (CGNAT)"),
    "hosting_vpn": ("hosting or VPN", "होस्टिंग या वीपीएन"),
    "private": ("private network", "निजी नेटवर्क"),
    "reserved": ("reserved range", "आरक्षित रेंज"),
    "unknown": ("network not known", "नेटवर्क अज्ञात"),
}

# What the "Suspect as reported" section lists (refer.dossier.AS_REPORTED_FIELDS).
REPORTED_FIELD: dict[str, Words] = {
    "name": ("name", "नाम"),
    "age": ("age", "आयु"),
    "date_of_birth": ("date of birth", "जन्म तिथि"),
    "address": ("address", "पता"),
    "phone": ("phone", "फ़ोन"),
    "email": ("email", "ईमेल"),
    "esp_account": ("account", "खाता"),
    "screen_name": ("screen name", "स्क्रीन नाम"),
    "display_name": ("display name", "प्रदर्शित नाम"),
}

VOCABULARIES: dict[str, dict[str, Words]] = {
    "factor": FACTOR,
    "identifiability": IDENTIFIABILITY,
    "answer": ANSWER,
    "basis": BASIS,
    "confidence": CONFIDENCE,
    "incident_type": INCIDENT_TYPE,
    "relevance": RELEVANCE,
    "annotation": ANNOTATION,
    "event": EVENT,
    "role": ROLE,
    "kind": KIND,
    "network_type": NETWORK_TYPE,
    "reported_field": REPORTED_FIELD,
}


def words(vocabulary: str, code: str | None) -> Words:
    """(English, Hindi) for a code; an unknown code is itself in both (shown as received, never dropped)."""
    if code is None:
        return "", ""
    return VOCABULARIES[vocabulary].get(code, (code, code))


def english(vocabulary: str, code: str | None) -> str:
    return words(vocabulary, code)[0]


def hindi(vocabulary: str, code: str | None) -> str:
    return words(vocabulary, code)[1]


def both(vocabulary: str, code: str | None, between: str = "\n") -> str:
    """English, then Hindi (one line each in a table cell); the code alone when it has no words."""
    first, second = words(vocabulary, code)
    return first if first == second else f"{first}{between}{second}"


def answer(identifiable: bool | None) -> str:
    return "yes" if identifiable else ("no" if identifiable is False else "unknown")
