"""The schema. Core tables (not ORM classes): ingest writes in bulk, and stages talk in plain records.

Report-derived rows are keyed by (report_id, version, ordinal) so a whole report can be written with
executemany and no round trip for generated keys. `identifier_observations` is the backbone of linking:
`ix_observations_lookup` answers "every current report holding this value" from an index.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    Float,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    text,
)

from tipfusion.store.types import JsonType, UTCDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

ingest_runs = Table(
    "ingest_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
    Column("actor", String(200), nullable=False),
    Column("command", String(50), nullable=False),
    Column("paths", JsonType, nullable=False),
    Column("summary", JsonType),
)

source_documents = Table(
    "source_documents",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("name", Text, nullable=False, comment="path as first received (zip members: zip path!member)"),
    Column("size", BigInteger, nullable=False),
    Column("format", String(30), nullable=False),
    Column("container_sha256", String(64), comment="the zip this member came from, if any"),
    Column("received_at", UTCDateTime, nullable=False),
    Column("run_id", Integer, nullable=False),
)

source_blobs = Table(
    "source_blobs",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("chunk", Integer, primary_key=True),
    Column("data", LargeBinary, nullable=False),
    comment="source bytes, byte for byte, in chunks so a large zip fits any database",
)

source_purges = Table(
    "source_purges",
    metadata,
    Column("sha256", String(64), primary_key=True, comment="the document whose bytes were removed (still listed)"),
    Column("purged_at", UTCDateTime, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("received_before", UTCDateTime, nullable=False, comment="the retention cut-off the purge applied"),
    Column("reason", Text, nullable=False),
    Column("size", BigInteger, nullable=False, comment="bytes removed"),
    comment="retention: source bytes removed by policy; the document's hash, name and size stay in source_documents",
)

reports = Table(
    "reports",
    metadata,
    Column("report_id", BigInteger, primary_key=True, autoincrement=False),
    Column("current_version", Integer, nullable=False),
    Column("format", String(20), nullable=False),
    Column("first_ingested_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

report_versions = Table(
    "report_versions",
    metadata,
    Column("report_id", BigInteger, primary_key=True, autoincrement=False),
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("content_hash", String(64), nullable=False),
    Column("ingested_at", UTCDateTime, nullable=False),
    Column("run_id", Integer, nullable=False),
    Column("format", String(20), nullable=False),
    Column("esp_name", Text),
    Column("esp_scope", String(255), nullable=False),
    Column("incident_type", Text),
    Column("incident_type_known", Boolean, nullable=False),
    Column("platform", Text),
    Column("escalation_text", Text),
    Column("incident_at", UTCDateTime),
    Column("incident_at_raw", String(64)),
    Column("incident_at_description", Text),
    Column("date_received", UTCDateTime),
    Column("batched_reason", String(64)),
    Column("ncmec_priority", String(16)),
    Column("additional_info", Text),
    Column("law_enforcement", JsonType),
    Column("reporter", JsonType),
    Column("incidents", JsonType),
    Column("extras", JsonType, comment="unknown elements, verbatim"),
    Column("issues", JsonType, comment="unknown enums, missing zones, …"),
    Column("unknown_count", Integer, nullable=False, server_default=text("0")),
    Index("ix_report_versions_content", "report_id", "content_hash"),
    Index("ix_report_versions_esp_scope", "esp_scope"),
)

report_version_parts = Table(
    "report_version_parts",
    metadata,
    Column("report_id", BigInteger, primary_key=True, autoincrement=False),
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("part_sha256", String(64), primary_key=True),
    Column("role", String(20), nullable=False),
    Column("source_sha256", String(64), nullable=False),
    Column("pointer", Text),
    ForeignKeyConstraint(["report_id", "version"], ["report_versions.report_id", "report_versions.version"]),
)

report_annotations = Table(
    "report_annotations",
    metadata,
    Column("report_id", BigInteger, primary_key=True, autoincrement=False),
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("name", String(100), primary_key=True),
    Column("known", Boolean, nullable=False),
)

accounts = Table(
    "accounts",
    metadata,
    Column("report_id", BigInteger, primary_key=True, autoincrement=False),
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("ordinal", Integer, primary_key=True, autoincrement=False),
    Column("role", String(20), nullable=False),
    Column("parent_ordinal", Integer),
    Column("esp_scope", String(255)),
    Column("esp_identifier", Text),
    Column("esp_service", Text),
    Column("screen_name", Text),
    Column("display_name", Text),
    Column("first_name", Text),
    Column("last_name", Text),
    Column("age", Integer),
    Column("date_of_birth", Date),
    Column("details", JsonType),
    Column("path", Text, nullable=False),
)

estimated_locations = Table(
    "estimated_locations",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("report_id", BigInteger, nullable=False),
    Column("version", Integer, nullable=False),
    Column("account_ordinal", Integer, nullable=False),
    Column("city", Text),
    Column("region", Text),
    Column("country_code", String(8)),
    Column("verified", Boolean),
    Column("observed_at", UTCDateTime),
    Index("ix_estimated_locations_report", "report_id", "version"),
)

files = Table(
    "files",
    metadata,
    Column("report_id", BigInteger, primary_key=True, autoincrement=False),
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("ordinal", Integer, primary_key=True, autoincrement=False),
    Column("file_id", Text),
    Column("file_name", Text),
    Column("original_file_name", Text),
    Column("uploaded_at", UTCDateTime),
    Column("uploaded_at_raw", String(64)),
    Column("location_of_file", Text),
    Column("viewed_by_esp", Boolean),
    Column("exif_viewed_by_esp", Boolean),
    Column("publicly_available", Boolean),
    Column("relevance", String(40)),
    Column("potential_meme", Boolean),
    Column("annotations", JsonType),
    Column("industry_classification", String(8)),
    Column("hashes", JsonType),
    Column("details", JsonType),
    Column("source_sha256", String(64)),
)

identifier_observations = Table(
    "identifier_observations",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("report_id", BigInteger, nullable=False),
    Column("version", Integer, nullable=False),
    Column("is_current", Boolean, nullable=False),
    Column("account_ordinal", Integer),
    Column("file_ordinal", Integer),
    Column("kind", String(20), nullable=False),
    Column("value", Text, nullable=False),
    Column("canonical", Text, nullable=False),
    Column("raw", Text, nullable=False),
    Column("valid", Boolean, nullable=False),
    Column("detail", String(40)),
    Column("flags", String(200)),
    Column("event_name", String(20)),
    Column("observed_at", UTCDateTime),
    Column("observed_at_raw", String(64)),
    Column("port", Integer),
    Column("possible_proxy", Boolean),
    Column("verified", Boolean),
    Column("origin", String(12), nullable=False),
    Column("path", Text, nullable=False),
    Column("attrs", JsonType),
    Column(
        "role",
        String(12),
        nullable=False,
        server_default=text("'incident'"),
        comment="whose value: reported | associated | recipient | victim | reporter | esp | incident",
    ),
    Column("identifiable", Boolean, comment="set by enrich: can an ISP name the subscriber from this sighting"),
    Column("identifiability_note", Text),
    Index("ix_observations_lookup", "kind", "canonical", "is_current", "report_id", "role"),
    Index("ix_observations_report", "report_id", "version"),
)

quarantine_entries = Table(
    "quarantine_entries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("source_sha256", String(64), nullable=False),
    Column("source_name", Text, nullable=False),
    Column("pointer", Text, comment="which unit inside the source (JSON index), if any"),
    Column("format", String(30), comment="the input format it was read as; empty when no format claimed it"),
    Column("report_id", BigInteger),
    Column("reason", String(40), nullable=False),
    Column("message", Text, nullable=False),
    Column("element", Text),
    Column("line", Integer),
    Column("expected", Text),
    Column("status", String(12), nullable=False, server_default=text("'open'")),
    Column("resolved_at", UTCDateTime),
    Column("resolution", Text),
    Index("ix_quarantine_status", "status", "reason"),
    Index("ix_quarantine_report", "report_id"),
)

leads = Table(
    "leads",
    metadata,
    Column("lead_ref", String(200), primary_key=True),
    Column("agency", Text),
    Column("received_at", UTCDateTime),
    Column("first_ingested_at", UTCDateTime, nullable=False),
)

lead_identifiers = Table(
    "lead_identifiers",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("lead_ref", String(200), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("value", Text, nullable=False),
    Column("canonical", Text, nullable=False),
    Column("raw", Text, nullable=False),
    Column("valid", Boolean, nullable=False),
    Column("detail", String(40)),
    Column("country", String(8)),
    Column("note", Text),
    Column("source_sha256", String(64), nullable=False),
    Column("line", Integer, nullable=False),
    Index("ix_lead_identifiers_lookup", "kind", "canonical"),
    Index("uq_lead_identifiers_item", "lead_ref", "kind", "canonical", unique=True),
)

audit_events = Table(
    "audit_events",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("action", String(60), nullable=False),
    Column("object_type", String(40), nullable=False),
    Column("object_id", Text, nullable=False),
    Column("details", JsonType),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Index("ix_audit_object", "object_type", "object_id"),
)

audit_checkpoints = Table(
    "audit_checkpoints",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("seq", BigInteger, nullable=False, comment="the audit chain's head entry when the checkpoint was written"),
    Column("head_hash", String(64), nullable=False, comment="that entry's hash"),
    Column("at", UTCDateTime, nullable=False),
    Column("key_fingerprint", String(80), comment="the unit key that signed it; NULL when no key was configured"),
    Column("signature", Text, comment="base64 Ed25519 signature over seq, head hash, time and key; NULL: unsigned"),
    comment="signed heads of the audit chain: a cut-off tail or a rewritten chain shows against them",
)

store_flags = Table(
    "store_flags",
    metadata,
    Column("name", String(60), primary_key=True),
    Column("value", Text, nullable=False),
    comment="store-wide facts, e.g. 'synthetic' when demo data has been loaded",
)

ip_enrichments = Table(
    "ip_enrichments",
    metadata,
    Column("ip", String(45), primary_key=True),
    Column("ip_version", Integer, nullable=False),
    Column("ip_class", String(20), nullable=False),
    Column("network_type", String(20), nullable=False),
    Column("asn", BigInteger),
    Column("as_org", Text),
    Column("isp_name", Text),
    Column("isp_source", String(30)),
    Column("cgnat", Boolean, nullable=False),
    Column("country_estimate", String(8)),
    Column("region_estimate", Text),
    Column("city_estimate", Text),
    Column("accuracy_radius_km", Integer),
    Column("latitude_estimate", Float),
    Column("longitude_estimate", Float),
    Column("warning", Text),
    Column("log_timezone", String(64)),
    Column("organization", Text, comment="who uses the address, from an ISP/Enterprise database (often not the ISP)"),
    Column("connection_type", String(40)),
    Column("user_type", String(40)),
    Column("mobile_country_code", String(8)),
    Column("mobile_network_code", String(8)),
    Column("answered_by", JsonType, comment="field (or 'location') -> the database type or table that answered it"),
    Column("sources", Text, nullable=False, comment="which rules, tables and database versions gave this answer"),
    Column("enriched_at", UTCDateTime, nullable=False),
    Index("ix_ip_enrichments_isp", "isp_name"),
)

phone_enrichments = Table(
    "phone_enrichments",
    metadata,
    Column("e164", String(32), primary_key=True),
    Column("valid", Boolean, nullable=False),
    Column("number_type", String(30)),
    Column("region", String(8)),
    Column("original_allottee", Text, comment="operator first allotted the series; ported numbers differ"),
    Column("area", Text),
    Column("sources", Text, nullable=False),
    Column("enriched_at", UTCDateTime, nullable=False),
)

email_enrichments = Table(
    "email_enrichments",
    metadata,
    Column("address", Text, primary_key=True),
    Column("domain", Text),
    Column("canonical", Text, nullable=False),
    Column("provider_rule", Boolean, nullable=False),
    Column("disposable", Boolean, nullable=False),
    Column("sources", Text, nullable=False),
    Column("enriched_at", UTCDateTime, nullable=False),
)

link_runs = Table(
    "link_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
    Column("actor", String(200), nullable=False),
    Column("settings", JsonType, nullable=False),
    Column("summary", JsonType),
    Column(
        "basis",
        JsonType,
        comment="the model the run weighed by and digests of the inputs it read: what an incremental link builds on",
    ),
)

link_report_digests = Table(
    "link_report_digests",
    metadata,
    Column("report_id", BigInteger, primary_key=True, autoincrement=False),
    Column("digest", BigInteger, nullable=False, comment="of the report's evidence as the run read it"),
    comment="each report's evidence as the last link read it: a report whose digest changed is re-linked",
)

link_value_holders = Table(
    "link_value_holders",
    metadata,
    Column("value_hash", BigInteger, primary_key=True, autoincrement=False),
    Column("holders", Integer, nullable=False, comment="distinct accounts holding the value, as the last link counted"),
    comment="each value two or more accounts hold, by its hash: a value whose count moved is re-linked with its "
    "holders",
)

report_links = Table(
    "report_links",
    metadata,
    Column("report_id", BigInteger, primary_key=True, autoincrement=False),
    Column("suspect_id", String(32), nullable=False),
    Column("network_id", String(32)),
    Column("run_id", Integer, nullable=False),
    Index("ix_report_links_suspect", "suspect_id"),
    Index("ix_report_links_network", "network_id"),
)

suspects = Table(
    "suspects",
    metadata,
    Column("suspect_id", String(32), primary_key=True),
    Column("reports", Integer, nullable=False),
    Column("network_id", String(32)),
    Column("component_id", String(32), comment="connected component of the suspect graph: the coarse view"),
    Column("run_id", Integer, nullable=False),
)

networks = Table(
    "networks",
    metadata,
    Column("network_id", String(32), primary_key=True),
    Column("suspects", Integer, nullable=False),
    Column("reports", Integer, nullable=False),
    Column("summary", JsonType),
    Column("run_id", Integer, nullable=False),
)

link_explanations = Table(
    "link_explanations",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("level", String(10), nullable=False, comment="suspect: two accounts joined; network: two suspects linked"),
    Column("owner_id", String(32), nullable=False, comment="the suspect or network the link holds together"),
    Column("a", String(32), nullable=False),
    Column("b", String(32), nullable=False),
    Column("score", Float, nullable=False),
    Column("evidence", JsonType, nullable=False),
    Index("ix_link_explanations_owner", "owner_id"),
)

suppressed_values = Table(
    "suppressed_values",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("level", String(10), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("value", Text, nullable=False),
    Column("holders", Integer, nullable=False),
    Column("reason", Text, nullable=False),
)

link_aliases = Table(
    "link_aliases",
    metadata,
    Column("old_id", String(32), primary_key=True),
    Column("new_id", String(32), nullable=False),
    Column("reason", String(20), nullable=False, comment="merged | split"),
    Column("run_id", Integer, nullable=False),
)

link_overrides = Table(
    "link_overrides",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("action", String(10), nullable=False, comment="noise | split | merge"),
    Column("kind", String(20)),
    Column("value", Text),
    Column("report_a", BigInteger),
    Column("report_b", BigInteger),
    Column("reason", Text, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("active", Boolean, nullable=False),
)

priorities = Table(
    "priorities",
    metadata,
    Column("object_type", String(10), primary_key=True, comment="report | suspect | network"),
    Column("object_id", String(32), primary_key=True),
    Column("score", Float, nullable=False),
    Column("pinned", Boolean, nullable=False),
    Column("factors", JsonType, nullable=False, comment="[factor, points, why] — every contribution shown"),
    Column("run_id", Integer, nullable=False),
    Index("ix_priorities_queue", "object_type", "pinned", "score"),
)

priority_counts = Table(
    "priority_counts",
    metadata,
    Column("object_type", String(10), primary_key=True, comment="report | suspect | network"),
    Column("pinned", Boolean, primary_key=True),
    Column(
        "score_floor",
        Integer,
        primary_key=True,
        comment="floor(score): a whole-number band threshold T splits these exactly as score >= T does",
    ),
    Column("held", Integer, nullable=False, comment="priorities of that level, pin and whole score"),
    comment="the work queue's totals without counting the queue: rewritten by triage with the priorities, "
    "in the same transaction",
)

triage_adjustments = Table(
    "triage_adjustments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("object_type", String(10), nullable=False),
    Column("object_id", String(32), nullable=False),
    Column("action", String(10), nullable=False, comment="pin | lower"),
    Column("points", Float, nullable=False),
    Column("reason", Text, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("active", Boolean, nullable=False),
)

isp_requests = Table(
    "isp_requests",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("reference", String(80), nullable=False, unique=True),
    Column("recipient", Text, nullable=False, comment="the ISP (or platform) asked"),
    Column("created_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime),
    Column("due_at", UTCDateTime, comment="sent + 72 hours (IT Rules 2021 r.3(1)(j))"),
    Column("status", String(12), nullable=False, comment="draft | sent | answered"),
    Column("items", Integer, nullable=False),
    Column("output_dir", Text, nullable=False),
    Column("files", JsonType, nullable=False, comment="file name → SHA-256 of every part written"),
    Column("actor", String(200), nullable=False),
    Column("sent_reference", Text, comment="how it went out: the e-mail's message id, the dispatch register entry"),
)

isp_request_items = Table(
    "isp_request_items",
    metadata,
    Column("request_id", Integer, primary_key=True, autoincrement=False),
    Column("item", Integer, primary_key=True, autoincrement=False),
    Column("report_id", BigInteger, nullable=False),
    Column("suspect_id", String(32)),
    Column("ip", String(45), nullable=False),
    Column("port", Integer),
    Column("observed_at", UTCDateTime, nullable=False),
    Column("event_name", String(20)),
    Column("identifiable", Boolean, nullable=False),
    Index("ix_isp_request_items_ip", "ip", "observed_at"),
)

police_stations = Table(
    "police_stations",
    metadata,
    Column("station_id", String(120), primary_key=True),
    Column("district", String(120), nullable=False),
    Column("geometry", JsonType, nullable=False, comment="GeoJSON geometry in WGS 84"),
    Column("source", Text, nullable=False),
    Column("synthetic", Boolean, nullable=False),
    Column("imported_at", UTCDateTime, nullable=False),
)

routing_decisions = Table(
    "routing_decisions",
    metadata,
    Column("suspect_id", String(32), primary_key=True),
    Column("district", String(120)),
    Column("station", String(120)),
    Column("basis", String(40), nullable=False),
    Column("confidence", String(10), nullable=False, comment="high | medium | low | none"),
    Column("network_id", String(32)),
    Column("network_central", Boolean, nullable=False, comment="the suspect's network spans districts"),
    Column("detail", JsonType, nullable=False),
    Column("overridden", Boolean, nullable=False),
)

routing_overrides = Table(
    "routing_overrides",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("suspect_id", String(32), nullable=False),
    Column("district", String(120)),
    Column("station", String(120)),
    Column("reason", Text, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("active", Boolean, nullable=False),
)

isp_answers = Table(
    "isp_answers",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("request_id", Integer, nullable=False),
    Column("item", Integer, nullable=False),
    Column("report_id", BigInteger, nullable=False),
    Column("ip", String(45), nullable=False),
    Column("port", Integer),
    Column("observed_at", UTCDateTime, nullable=False),
    Column("subscriber_name", Text),
    Column("address", Text),
    Column("pin", String(12)),
    Column("phone", String(32), comment="E.164"),
    Column("alternate_phone", String(32)),
    Column("email", Text),
    Column("id_document_type", String(40)),
    Column("id_document_number", String(80)),
    Column("connection_type", String(40)),
    Column("source_sha256", String(64), nullable=False),
    Column("line", Integer, nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    Index("ix_isp_answers_report", "report_id"),
    Index("ix_isp_answers_ip", "ip"),  # a search for an identifier finds the answers holding it by index seeks
    Index("ix_isp_answers_phone", "phone"),
    Index("ix_isp_answers_alternate_phone", "alternate_phone"),
    Index("ix_isp_answers_email", "email"),
)

operations = Table(
    "operations",
    metadata,
    Column("name", String(120), primary_key=True),
    Column("title", Text),
    Column("starts_at", UTCDateTime, nullable=False),
    Column("ends_at", UTCDateTime, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    comment="a named drive: groups the referrals built in its period",
)

referrals = Table(
    "referrals",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("reference", String(80), nullable=False, unique=True),
    Column("subject_type", String(10), nullable=False, comment="suspect | network"),
    Column("subject_id", String(32), nullable=False),
    Column("suspects", JsonType, nullable=False, comment="suspect ids the package covers"),
    Column("district", String(120)),
    Column("station", String(120)),
    Column("operation", String(120)),
    Column("kind", String(14), nullable=False, comment="initial | supplementary"),
    Column("parent_id", Integer, comment="the referral a supplementary one adds to"),
    Column("built_at", UTCDateTime, nullable=False),
    Column("output_dir", Text, nullable=False),
    Column("files", JsonType, nullable=False, comment="file name → SHA-256"),
    Column("manifest_sha256", String(64), nullable=False),
    Column("snapshot", JsonType, nullable=False, comment="reports, identifiers and answers the package holds"),
    Column("actor", String(200), nullable=False),
    Index("ix_referrals_subject", "subject_type", "subject_id"),
)

cases = Table(
    "cases",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("referral_id", Integer, nullable=False, unique=True),
    Column("state", String(20), nullable=False),
    Column("district", String(120)),
    Column("station", String(120)),
    Column("suspects", Integer, nullable=False),
    Column("sent_at", UTCDateTime, nullable=False),
    Column("acknowledged_at", UTCDateTime),
    Column("fir_number", String(40)),
    Column("fir_date", Date),
    Column("fir_station", String(120)),
    Column("sections", JsonType),
    Column("arrests", Integer, nullable=False, server_default=text("0")),
    Column("arrested", JsonType, comment="[{name, date}] per accused arrested"),
    Column("devices_seized", Integer, nullable=False, server_default=text("0")),
    Column("chargesheet_date", Date),
    Column("closed_reason", String(20)),
    Column("closed_at", UTCDateTime),
    Column("needs_update", Text, comment="why a supplementary referral is due: new reports or answers"),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_cases_station", "station", "state"),
)

case_events = Table(
    "case_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", Integer, nullable=False),
    Column("action", String(20), nullable=False, comment="transition | correction | transfer | flag"),
    Column("from_state", String(20)),
    Column("to_state", String(20)),
    Column("fields", JsonType, nullable=False),
    Column("reason", Text),
    Column("actor", String(200), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Index("ix_case_events_case", "case_id"),
)

# -- accounts (issue 13): who may use the web application and the command line, and their live sessions -----------
users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(80), nullable=False, unique=True),
    Column("password_hash", Text, nullable=False, comment="argon2id (argon2-cffi PasswordHasher), never the password"),
    Column("role", String(20), nullable=False, comment="admin | analyst | supervisor | district | station | auditor"),
    Column("district", String(120), comment="a district officer's district"),
    Column("station", String(120), comment="a station officer's station (its district is looked up)"),
    Column("disabled", Boolean, nullable=False, server_default=text("false")),
    Column("failed_attempts", Integer, nullable=False, server_default=text("0"), comment="since the last success"),
    Column("locked_until", UTCDateTime, comment="login refused until then, even with the right password"),
    Column("synthetic", Boolean, nullable=False, server_default=text("false"), comment="a demo account"),
    Column("created_at", UTCDateTime, nullable=False),
    Column("password_changed_at", UTCDateTime, nullable=False),
    comment="accounts: one per person; scope (district/station) decides what they see",
)

user_sessions = Table(
    "user_sessions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "token_hash", String(64), nullable=False, unique=True, comment="SHA-256 of the token; the token is not kept"
    ),
    Column("user_id", Integer, nullable=False),
    Column("kind", String(10), nullable=False, comment="web | cli"),
    Column("csrf_secret", String(64), nullable=False, comment="the form token of this session"),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_seen", UTCDateTime, nullable=False, comment="for the idle timeout"),
    ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
    Index("ix_user_sessions_user", "user_id"),
    comment="server-side sessions: logging out or disabling an account ends them at once",
)

login_throttle = Table(
    "login_throttle",
    metadata,
    Column("client", String(64), primary_key=True, comment="the client address failed logins came from"),
    Column("window_start", UTCDateTime, nullable=False, comment="the counting window began then"),
    Column("failures", Integer, nullable=False, comment="failed logins from it within the window, any account"),
    Column("blocked_until", UTCDateTime, comment="logins from it are refused until then"),
    comment="per-address login throttling (kept in the store so every server worker sees it)",
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("token_hash", String(64), nullable=False, unique=True, comment="SHA-256 of the token; shown once"),
    Column("user_id", Integer, nullable=False),
    Column("label", String(120), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_used", UTCDateTime),
    Column("revoked_at", UTCDateTime),
    ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
    Index("ix_api_tokens_user", "user_id"),
    comment="bearer tokens of the /api/ integration: the scope is the owning account's role and jurisdiction",
)

# -- known-content hash lists (tipfusion.enrich.hashlists): hashes only, never media ----------------------------
hash_lists = Table(
    "hash_lists",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False, unique=True, comment="the unit's name for the list"),
    Column("created_at", UTCDateTime, nullable=False),
    Column("actor", String(200), nullable=False),
    comment="known-content hash sets the unit imports (CSV, Project VIC VICS JSON)",
)

hash_list_imports = Table(
    "hash_list_imports",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("list_id", Integer, nullable=False),
    Column("format", String(10), nullable=False, comment="csv | vics"),
    Column("source_name", Text, nullable=False),
    Column("source_sha256", String(64), nullable=False, comment="the file's SHA-256: the same file twice is a no-op"),
    Column("imported_at", UTCDateTime, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("rows", Integer, nullable=False, comment="rows (CSV) or media records (VICS) read"),
    Column("entries_added", Integer, nullable=False),
    Column("rejected", Integer, nullable=False),
    ForeignKeyConstraint(["list_id"], ["hash_lists.id"], ondelete="CASCADE"),
    Index("uq_hash_list_imports_file", "list_id", "source_sha256", unique=True),
)

hash_list_entries = Table(
    "hash_list_entries",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("list_id", Integer, nullable=False),
    Column("import_id", Integer, nullable=False),
    Column("algorithm", String(10), nullable=False, comment="md5 | sha1 | sha256 | pdq | photodna"),
    Column(
        "canonical",
        Text,
        nullable=False,
        comment="as identifier_observations.canonical of a file_hash (md5:<lower hex>), so the match is one join",
    ),
    Column("category", Text),
    Column("source", Text),
    Column("media_ref", Text, comment="the record it came from (VICS MediaID, or the CSV line)"),
    ForeignKeyConstraint(["list_id"], ["hash_lists.id"], ondelete="CASCADE"),
    Index("uq_hash_list_entries_value", "list_id", "canonical", unique=True),
    Index("ix_hash_list_entries_lookup", "canonical"),
    Index("ix_hash_list_entries_algorithm", "algorithm"),
)

hash_list_rejects = Table(
    "hash_list_rejects",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("import_id", Integer, nullable=False),
    Column("source_name", Text, nullable=False),
    Column("line", Integer, nullable=False),
    Column("field", Text, comment="the column or JSON field at fault"),
    Column("message", Text, nullable=False, comment="what was wrong and what was expected"),
    ForeignKeyConstraint(["import_id"], ["hash_list_imports.id"], ondelete="CASCADE"),
    Index("ix_hash_list_rejects_import", "import_id"),
    comment="bad rows of an imported hash list: quarantined with file, line and reason; the good rows landed",
)

hash_list_matches = Table(
    "hash_list_matches",
    metadata,
    Column("report_id", BigInteger, primary_key=True, autoincrement=False),
    Column("file_ordinal", Integer, primary_key=True, autoincrement=False),
    Column("entry_id", BigInteger, primary_key=True, autoincrement=False),
    Column("file_hash", Text, nullable=False, comment="the file's hash that matched (canonical)"),
    Column("list_id", Integer, nullable=False),
    Column("distance", Integer, nullable=False, comment="0: exact; PDQ: Hamming distance (at most 31)"),
    Index("ix_hash_list_matches_list", "list_id"),
    comment="current files whose hashes are on a known-content list (rebuilt by tipfusion.enrich.hashlists)",
)
