"""A SQLite read into Arrow in C, in a process of its own: `python -m tipfusion.store.sqlite_arrow`.

The ADBC driver for SQLite reads rows straight into Arrow columns, without a Python object per value: linking's
sorted sightings of 100,000 reports in ~1.7 s against ~3.4 s fetched as tuples and turned into columns. But the
driver carries its own copy of SQLite, and two copies of SQLite in one process break each other's file locks (closing
a file in one releases the other's POSIX locks on it: https://www.sqlite.org/howtocorrupt.html, 2.2.1), so it never
opens the store in the process that writes it. It runs here, in a child, and hands the batches back as an Arrow IPC
stream on its standard output (`store.columnar._sqlite_read` reads them, while linking works on the last).

The request comes as JSON on standard input: the database file, the SQL, the *stamp* (SQL of one value that every
commit changing the rows changes) and the rows per batch. The child reads the stamp and then the rows in one
transaction, and puts the stamp's value in the stream's metadata, so the parent can tell whether it read the store
its own transaction sees.
"""

from __future__ import annotations

import json
import sys
from typing import Any

STAMP_KEY = b"tipfusion.stamp"
BUSY_MS = 30_000


def serve(request: dict[str, Any], out: Any) -> None:
    import adbc_driver_sqlite.dbapi as adbc
    import pyarrow as pa

    with adbc.connect(request["database"], autocommit=True) as conn, conn.cursor() as cursor:
        cursor.execute(f"PRAGMA busy_timeout={BUSY_MS}")
        cursor.execute("PRAGMA query_only=ON")  # a reader: nothing here may write the store
        cursor.execute("BEGIN")  # one snapshot for the stamp and the rows, from the first read
        cursor.execute(request["stamp"])
        found = cursor.fetchone()
        stamp = json.dumps(None if found is None else found[0])
        cursor.adbc_statement.set_options(**{"adbc.sqlite.query.batch_rows": str(request["batch"])})
        cursor.execute(request["sql"])
        reader = cursor.fetch_record_batch()
        schema = reader.schema.with_metadata({STAMP_KEY: stamp.encode()})
        with pa.ipc.new_stream(out, schema) as stream:
            for batch in reader:
                stream.write_batch(batch)
        cursor.execute("ROLLBACK")


def main() -> None:
    serve(json.loads(sys.stdin.read()), sys.stdout.buffer)


if __name__ == "__main__":
    main()
