"""A synthetic world of people, accounts, networks and files, with its ground truth.

Built to test linking honestly: the same person appears under several accounts on several ESPs,
with formatting variants of one phone or email; rings share chat groups and rare files; lone
offenders hold widely circulated known files; viral files are re-shared by strangers; mobile users sit
behind carrier-grade NAT pools (one IP, many people, ports often missing); families share a phone;
common screen names recur among strangers. Every identifier is from a reserved or fictional range.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from faker import Faker

from tipfusion.normalise.device import luhn_ok
from tipfusion.route.jurisdictions import DEMO_DISTRICTS

# Fictional ESPs; the domain doubles as the ESP's reporting address (reserved .test TLD).
ESPS = [
    ("ExampleChat, Inc.", "examplechat.test", "ExampleChat for Android"),
    ("PhotoShare Example LLC", "photoshare.test", "PhotoShare"),
    ("VidStream Example Ltd", "vidstream.test", "VidStream"),
    ("Example Mailbox Corp", "mailbox.test", "Example Mailbox"),
]
EMAIL_DOMAINS = ["example.com", "example.net", "example.org", "mail.example.com"]
COMMON_SCREEN_NAMES = ["rahul123", "cool_boy", "king007", "angel", "sunny", "rockstar"]
COMMON_DISPLAY_NAMES = ["Angel", "King", "Sunny", "Rockstar", "Cool Boy"]
FIXED_POOL = "198.18"  # 198.18.0.0/16: home broadband, one address per household
CGNAT_POOL = [f"198.19.0.{i}" for i in range(1, 31)]  # 30 public addresses shared by every mobile user
EPOCH = datetime(2026, 6, 1, tzinfo=UTC)
OFFSETS = [timedelta(0), timedelta(hours=5, minutes=30), timedelta(hours=-7), timedelta(hours=1)]


def synthetic_hashes(label: str) -> dict[str, str]:
    """MD5/SHA1/SHA256 of a text label: stand-ins for file hashes, of no real file."""
    text = f"SYNTHETIC-TEST-FILE {label} (not a real file)".encode()
    return {
        "MD5": hashlib.md5(text).hexdigest(),
        "SHA1": hashlib.sha1(text).hexdigest(),
        "SHA256": hashlib.sha256(text).hexdigest(),
    }


def luhn_digit(body: str) -> str:
    """The check digit that makes `body` + digit pass the Luhn check (IMEIs)."""
    return next(d for d in "0123456789" if luhn_ok(body + d))


@dataclass(frozen=True)
class Noise:
    """How hard the batch is to link: each share is a probability used by the generator."""

    mobile_share: float = 0.55  # persons on a carrier-grade-NAT mobile network
    viral_share: float = 0.12  # reports of a viral file re-shared by strangers
    known_share: float = 0.35  # reports that also hold a widely circulated known file
    common_name_share: float = 0.03  # accounts with a screen name many strangers use
    family_phone_share: float = 0.04  # persons sharing a household phone with someone else
    # the cases evidence has to add up or contradict (issue 17); all off by default, drawn from a generator of their
    # own so the default batch is the same as before they existed
    display_name_share: float = 0.0  # accounts showing the person's display name (the same on each service)
    nameless_share: float = 0.0  # persons whose ESPs give no real name (screen and display names only)
    household_share: float = 0.0  # fixed-line persons living with another: one home broadband line, two people
    shared_email_share: float = 0.0  # persons who also use a relative's mailbox, each with a phone of their own
    # a ring's stray members and strangers' coincidences (issue 17 §3); off by default, from a generator of their own:
    stray_share: float = 0.0  # rings with an account seen only as a recipient and a member reported once, elsewhere
    lone_pair_share: float = 0.0  # lone offenders holding two of a few moderately common files (4-6 holders each)


@dataclass
class Account:
    esp: int
    user_id: str
    screen_name: str
    display_name: str | None = None

    def profile_url(self, domain: str) -> str:
        """The account's own page, keyed by the account: a service gives every account a page of its own, while the
        generator lets strangers pick one common screen name on one service (a page built from it would make them one
        account). Every synthetic report names its account (`espIdentifier`), so no batch joins accounts by a page."""
        return f"https://{domain}/u/{self.user_id}"


@dataclass
class Person:
    person_id: str
    first_name: str
    last_name: str
    age: int
    accounts: list[Account]
    emails: list[str]
    phone: str | None  # national significant number (10 digits), rendered in variants
    imei: str
    mobile: bool
    fixed_ips: list[str]
    ipv6_prefix: str | None
    network: str | None = None
    own_files: list[str] = field(default_factory=list)
    home: tuple[str, str] | None = None  # (PIN, locality) in the demo jurisdiction
    reports: int = 1
    named: bool = True  # the ESPs give the person's first and last name
    household: str | None = None  # the person whose home line (and maybe mailbox) this person shares
    stray_file: str | None = None  # a stray ring member's one ring file (they write to the ring's hub account)
    moderate_files: list[str] = field(default_factory=list)  # files a handful of strangers also hold


@dataclass
class Network:
    network_id: str
    members: list[Person]
    groups: list[str]
    rare_files: list[str]
    esp: int
    hub: Account | None = None  # a ring account the reports show only as members' intended recipient


@dataclass
class World:
    persons: list[Person]
    networks: list[Network]
    known_files: list[str]  # widely circulated known material (hash labels)
    viral_files: list[str]
    seed: int


def build_world(reports: int, seed: int, noise: Noise | None = None) -> World:
    noise = noise or Noise()
    rng = random.Random(seed)
    fake = Faker("en_IN")
    fake.seed_instance(seed)
    person_count = max(2, reports // 3)
    known_files = [f"known-{i}" for i in range(60)]
    viral_files = [f"viral-{i}" for i in range(8)]
    persons: list[Person] = []
    used_phones: set[str] = set()
    family_phone: str | None = None
    for n in range(person_count):
        first, last = fake.first_name(), fake.last_name()
        base = f"{first}.{last}".lower().replace(" ", "")
        accounts: list[Account] = []
        for _ in range(rng.choice([1, 1, 2, 2, 3])):
            esp = rng.randrange(len(ESPS))
            if rng.random() < noise.common_name_share:
                screen = rng.choice(COMMON_SCREEN_NAMES)  # strangers share these
            else:
                screen = f"{base.split('.')[0]}_{rng.randrange(10, 9999)}"
            accounts.append(Account(esp, f"u-{seed:x}{n:06x}{len(accounts)}", screen))
        emails = []
        for _ in range(rng.choice([0, 1, 1, 2])):
            emails.append(f"{base}{rng.randrange(1, 999)}@{rng.choice(EMAIL_DOMAINS)}")
        phone = None
        if rng.random() < 0.7:
            if family_phone and rng.random() < noise.family_phone_share:
                phone = family_phone  # a household shares one number: same phone, different people
            else:
                while phone is None or phone in used_phones:
                    phone = f"9{rng.randrange(100000000, 999999999)}"
                used_phones.add(phone)
                family_phone = phone
        body = "00" + "".join(str(rng.randrange(10)) for _ in range(12))
        mobile = rng.random() < noise.mobile_share
        fixed = (
            []
            if mobile
            else [f"{FIXED_POOL}.{rng.randrange(256)}.{rng.randrange(1, 255)}" for _ in range(rng.choice([1, 1, 2]))]
        )
        prefix = f"2001:db8:{rng.randrange(0x10000):x}:{rng.randrange(0x10000):x}" if rng.random() < 0.3 else None
        reports_for = 1 + min(int(rng.expovariate(0.7)), 12)
        home: tuple[str, str] | None = None
        if rng.random() < 0.4:  # an address the user gave the ESP (billing, recovery), in the demo city
            d, st = rng.randrange(6), rng.randrange(5)
            home = (f"9{d + 1:02d}{st + 1:03d}", f"{DEMO_DISTRICTS[d]} sector {st + 1}")
        persons.append(
            Person(
                f"P{n:06d}",
                first,
                last,
                rng.randrange(18, 60),
                accounts,
                emails,
                phone,
                body + luhn_digit(body),
                mobile,
                fixed,
                prefix,
                reports=reports_for,
                home=home,
            )
        )
    networks: list[Network] = []
    pool = list(persons)
    rng.shuffle(pool)
    cursor = 0
    target = int(len(persons) * 0.18)
    while cursor < target and cursor + 3 <= len(pool):
        size = rng.randrange(3, 13)
        members = pool[cursor : cursor + size]
        cursor += size
        network_id = f"N{len(networks):05d}"
        for member in members:
            member.network = network_id
        esp = rng.randrange(len(ESPS))
        groups = [f"ring-{seed}-{len(networks)}-{g}" for g in range(rng.choice([1, 1, 2]))]
        rare = [f"{network_id}-file-{i}" for i in range(rng.randrange(5, 15))]
        networks.append(Network(network_id, members, groups, rare, esp))
    for person in persons:
        person.own_files = [f"{person.person_id}-file-{i}" for i in range(rng.randrange(1, 4))]
    _households(persons, noise, random.Random(seed * 104729 + 17))
    _strays(persons, networks, noise, random.Random(seed * 130363 + 29), fake, seed)
    return World(persons, networks, known_files, viral_files, seed)


def _strays(
    persons: list[Person], networks: list[Network], noise: Noise, rng: random.Random, fake: Faker, seed: int
) -> None:
    """Ring members the ring's own evidence barely reaches, and strangers whose files coincide.

    A stray ring gets a hub account (members write to it from the hub's service; it is never reported) and one more
    member, reported once without the ring's group, holding one of the ring's files and writing to the hub: truth
    puts them in the ring, and no single tie says so. Lone offenders picked by `lone_pair_share`
    hold two files from a small pool sized so each file has about five holders: some pairs hold the same two."""
    for network in networks:
        if rng.random() >= noise.stray_share:
            continue
        index = len(persons)
        network.hub = Account(network.esp, f"u-{seed:x}h{index:06x}", f"hub_{rng.randrange(100, 9999)}")
        first, last = fake.first_name(), fake.last_name()
        # on the hub's service (an ESP scopes its account ids: writing to the hub means being there too)
        account = Account(network.esp, f"u-{seed:x}{index:06x}0", f"{first.lower()}_{rng.randrange(10, 9999)}")
        body = "00" + "".join(str(rng.randrange(10)) for _ in range(12))
        stray = Person(
            f"P{index:06d}",
            first,
            last,
            rng.randrange(18, 60),
            [account],
            [],
            None,
            body + luhn_digit(body),
            True,
            [],
            None,
            network=network.network_id,
            reports=1,
        )
        stray.stray_file = rng.choice(network.rare_files)
        stray.own_files = [f"{stray.person_id}-file-0"]  # drawn from like anyone's, then replaced by the ring's file
        persons.append(stray)
    lone = [p for p in persons if p.network is None and rng.random() < noise.lone_pair_share]
    pool = [f"moderate-{i}" for i in range(max(4, round(2 * len(lone) / 5)))]
    for person in lone:
        person.moderate_files = rng.sample(pool, k=2)


def _households(persons: list[Person], noise: Noise, rng: random.Random) -> None:
    """Display names, nameless persons, shared home lines and shared mailboxes — from their own generator.

    A display name is the person's on every account that shows one (a few strangers pick the same common one); a
    household is two people on one home broadband line (different people: truth keeps them apart); a shared mailbox
    is a relative's email (a recovery address they set up) used beside one's own, while each keeps a phone of their
    own: the email says one person, the phones say two."""
    previous: Person | None = None
    mailbox: Person | None = None
    for person in persons:
        common = rng.random() < noise.common_name_share
        shown = rng.choice(COMMON_DISPLAY_NAMES) if common else f"{person.first_name} {person.last_name[:1]}."
        for account in person.accounts:
            if rng.random() < noise.display_name_share:
                account.display_name = shown
        person.named = rng.random() >= noise.nameless_share
        shares = bool(person.phone) and mailbox is not None and mailbox.phone != person.phone
        if shares and mailbox is not None and rng.random() < noise.shared_email_share:
            person.emails = [*person.emails, mailbox.emails[0]]
        if person.phone and person.emails:
            mailbox = person
        if not person.fixed_ips:
            continue
        if previous is not None and rng.random() < noise.household_share:
            person.fixed_ips = [previous.fixed_ips[0]]
            person.household = previous.person_id
            previous = None  # two to a line
        else:
            previous = person


def render_phone(rng: random.Random, national: str) -> tuple[str, str | None]:
    """One of the ways a platform writes the same Indian mobile number: (text, countryCallingCode)."""
    style = rng.randrange(5)
    if style == 0:
        return f"+91 {national[:5]} {national[5:]}", None
    if style == 1:
        return f"0{national}", None
    if style == 2:
        return f"{national[:5]}-{national[5:]}", "+91"
    if style == 3:
        return f"+91{national}", None
    return national, None


def render_email(rng: random.Random, email: str) -> str:
    """Case and provider variants of one mailbox (dots and +tags only where the provider ignores them)."""
    local, domain = email.split("@")
    style = rng.randrange(4)
    if style == 1:
        return f"{local.capitalize()}@{domain.upper()}"
    if style == 2 and domain == "mail.example.com":
        return f"{local.replace('.', '')}+{rng.choice(['x', 'chat', 'pics'])}@{domain}"
    if style == 3:
        return f" {email} "
    return email


def render_time(rng: random.Random, moment: datetime) -> str:
    """The same instant written with one of several zone offsets."""
    offset = rng.choice(OFFSETS)
    local = moment.astimezone(UTC) + offset
    if offset == timedelta(0):
        return local.strftime("%Y-%m-%dT%H:%M:%SZ")
    sign = "+" if offset >= timedelta(0) else "-"
    minutes = abs(int(offset.total_seconds())) // 60
    return local.strftime("%Y-%m-%dT%H:%M:%S") + f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"
