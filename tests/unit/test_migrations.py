"""migrations/ (what deployed databases get, in order) build exactly schema.sql's schema (what the
unit tests and fresh databases use), and every migration can be applied twice."""
import pathlib
import sqlite3

ROOT = pathlib.Path(__file__).resolve().parents[2]
MIGRATIONS = sorted((ROOT / "migrations").glob("*.sql"))


def schema_of(scripts) -> dict:
    conn = sqlite3.connect(":memory:")
    for script in scripts:
        conn.executescript(script)
    rows = conn.execute("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' "
                        "AND name != 'd1_migrations'").fetchall()
    return {(kind, name): " ".join(sql.split()) for kind, name, sql in rows if sql}


def test_migrations_are_numbered_in_order():
    numbers = [int(path.name.split("_")[0]) for path in MIGRATIONS]
    assert numbers == list(range(1, len(MIGRATIONS) + 1))


def test_all_migrations_yield_exactly_the_schema():
    assert schema_of(p.read_text() for p in MIGRATIONS) == schema_of([(ROOT / "schema.sql").read_text()])


def test_migrations_are_idempotent():
    scripts = [p.read_text() for p in MIGRATIONS]
    assert schema_of(scripts + scripts) == schema_of(scripts)


def test_a_database_made_from_the_old_schema_upgrades_in_place():
    """Deployments made before migrations existed applied 0001's schema directly."""
    scripts = [p.read_text() for p in MIGRATIONS]
    assert schema_of(scripts[:1] + scripts) == schema_of(scripts)
