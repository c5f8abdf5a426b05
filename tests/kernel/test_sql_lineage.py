"""SQL reads seen at runtime: the query actually executed, server and database, tables and columns.

Real databases only: SQLite through sqlite3 and SQLAlchemy, PostgreSQL (a throwaway cluster) through
pyodbc's "PostgreSQL Unicode" driver, psycopg and SQLAlchemy. Passwords must never appear.
"""

from __future__ import annotations

import json

import pytest

from tests.fixtures.postgres import PASSWORD, PASSWORD_ROLE


def sql_datasets(notebook):
    return [d for d in notebook.ext.tracker.datasets.values() if d.kind == "sql"]


def seed_sqlite(path):
    import sqlite3

    con = sqlite3.connect(path)
    con.execute("CREATE TABLE loans (amount REAL, term INTEGER, grade TEXT, defaulted INTEGER)")
    con.executemany("INSERT INTO loans VALUES (?, ?, ?, ?)", [(1000.0 * i, 12 + i % 3, "AB"[i % 2], i % 2)
                                                              for i in range(40)])
    con.commit()
    con.close()


def test_sqlite3_cursor_read_records_the_executed_query_file_and_columns(notebook, tmp_path):
    db = tmp_path / "loans.db"
    seed_sqlite(db)
    notebook.run_cell(f"import sqlite3\ncon = sqlite3.connect({str(db)!r})\ncur = con.cursor()\n"
                      "min_term = 12\n"
                      "cur.execute(f'SELECT amount, term FROM loans WHERE term > {min_term}')\nrows = cur.fetchall()")
    assert len(notebook.ns["rows"]) > 0  # the user's cursor still works after flock looked at it
    [dataset] = sql_datasets(notebook)
    assert dataset.source == "SELECT amount, term FROM loans WHERE term > 12"  # as executed, not as written
    assert dataset.tables == ["loans"] and dataset.columns == ["amount", "term"]
    assert dataset.database == str(db)


def test_pandas_read_sql_query_on_sqlite_gives_schema_and_rows(notebook, tmp_path):
    db = tmp_path / "loans.db"
    seed_sqlite(db)
    notebook.run_cell(f"import sqlite3, pandas as pd\ncon = sqlite3.connect({str(db)!r})\n"
                      "loans = pd.read_sql_query('SELECT * FROM loans', con)")
    [dataset] = sql_datasets(notebook)
    assert dataset.tables == ["loans"] and dataset.columns == ["amount", "term", "grade", "defaulted"]
    assert dataset.n_rows == 40 and ("amount", "float64") in dataset.schema


@pytest.mark.postgres
def test_pyodbc_postgresql_read_names_server_and_database_never_the_password(notebook, postgres_server,
                                                                              postgres_database):
    postgres_server.execute("CREATE TABLE applicants (income REAL, age INTEGER, approved INTEGER)",
                            database=postgres_database)
    postgres_server.execute("INSERT INTO applicants VALUES (50000, 31, 1), (20000, 22, 0)", database=postgres_database)
    postgres_server.execute(f"GRANT SELECT ON applicants TO {PASSWORD_ROLE}", database=postgres_database)
    conn_str = (f"DRIVER={{PostgreSQL Unicode}};SERVER={postgres_server.host};PORT={postgres_server.port};"
                f"DATABASE={postgres_database};UID={PASSWORD_ROLE};PWD={PASSWORD}")
    notebook.run_cell(f"import pyodbc, pandas as pd\nconn = pyodbc.connect({conn_str!r})\n"
                      "cursor = conn.cursor()\ncursor.execute('SELECT income, age FROM applicants')\n"
                      "rows = cursor.fetchall()\n"
                      "frame = pd.read_sql('SELECT income, approved FROM applicants', conn)")
    datasets = sql_datasets(notebook)
    assert {d.source for d in datasets} == {"SELECT income, age FROM applicants",
                                            "SELECT income, approved FROM applicants"}
    for dataset in datasets:
        assert postgres_database in dataset.database and dataset.tables == ["applicants"]
        assert PASSWORD not in json.dumps([dataset.source, dataset.database, dataset.name])
    by_source = {d.source: d for d in datasets}
    assert by_source["SELECT income, approved FROM applicants"].columns == ["income", "approved"]
    assert by_source["SELECT income, age FROM applicants"].columns == ["income", "age"]


@pytest.mark.postgres
def test_sqlalchemy_and_psycopg_reads_on_postgresql(notebook, postgres_server, postgres_database):
    postgres_server.execute("CREATE TABLE sales (region TEXT, amount REAL)", database=postgres_database)
    postgres_server.execute("INSERT INTO sales VALUES ('n', 1.5), ('s', 2.5)", database=postgres_database)
    url = postgres_server.url(postgres_database)
    notebook.run_cell(f"import sqlalchemy as sa, pandas as pd, psycopg\nengine = sa.create_engine({url!r})\n"
                      "with engine.connect() as c:\n"
                      "    result = c.execute(sa.text('SELECT region, amount FROM sales WHERE amount > 1'))\n"
                      "    got = result.fetchall()\n"
                      "sales = pd.read_sql('SELECT amount FROM sales', engine)\n"
                      f"pg = psycopg.connect(host={postgres_server.host!r}, port={postgres_server.port}, "
                      f"dbname={postgres_database!r}, user={postgres_server.superuser!r})\n"
                      "regions = pg.execute('SELECT DISTINCT region FROM sales').fetchall()\npg.close()")
    assert len(notebook.ns["got"]) == 2 and len(notebook.ns["regions"]) == 2
    by_source = {d.source: d for d in sql_datasets(notebook)}
    text = by_source["SELECT region, amount FROM sales WHERE amount > 1"]
    assert text.columns == ["region", "amount"] and text.tables == ["sales"]
    assert text.database == f"{postgres_server.host}:{postgres_server.port}/{postgres_database}"
    frame = by_source["SELECT amount FROM sales"]
    assert frame.n_rows == 2 and frame.schema == [("amount", "float64")]
    assert by_source["SELECT DISTINCT region FROM sales"].database.endswith(f"/{postgres_database}")


def test_sql_reads_feed_the_lineage_and_the_tracking_store(notebook, tmp_path):
    from mlflow.tracking import MlflowClient

    db = tmp_path / "loans.db"
    seed_sqlite(db)
    notebook.run_cell(f"import sqlite3, pandas as pd\nfrom sklearn.linear_model import LogisticRegression\n"
                      f"con = sqlite3.connect({str(db)!r})\n"
                      "loans = pd.read_sql('SELECT amount, term, defaulted FROM loans', con)\n"
                      "clf = LogisticRegression().fit(loans[['amount', 'term']], loans['defaulted'])")
    assert notebook.flush()
    lineage = notebook.ext.tracker.lineage.to_json()
    assert any("loans" in (s.get("tables") or []) for s in lineage["data_sources"])
    [fit] = notebook.ext.tracker.fits.values()
    assert [d.source for d in fit.inputs] == ["SELECT amount, term, defaulted FROM loans"]
    assert fit.features == ["amount", "term"] and fit.label == "defaulted"
    run_id = notebook.ext.tracker.run_id_for(fit.model_id)
    run = MlflowClient().get_run(run_id)
    assert any("SELECT amount, term, defaulted FROM loans" in json.dumps(i.dataset.source)
               for i in run.inputs.dataset_inputs)


def test_a_query_built_at_runtime_fills_in_the_lineage_tables_and_columns(notebook, tmp_path):
    db = tmp_path / "loans.db"
    seed_sqlite(db)
    notebook.run_cell(f"import sqlite3, random\ncon = sqlite3.connect({str(db)!r})\n"
                      "table = random.choice(['loans'])\n"
                      "rows = con.execute('SELECT grade, term FROM ' + table).fetchall()")
    [source] = notebook.ext.tracker.lineage.to_json()["data_sources"]
    assert source["tables"] == ["loans"] and source["columns"] == ["grade", "term"]
    [dataset] = sql_datasets(notebook)
    assert dataset.source == "SELECT grade, term FROM loans" and dataset.source_id == source["id"]
