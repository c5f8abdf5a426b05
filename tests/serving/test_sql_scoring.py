"""score_sql against real databases: SQLite (SQLAlchemy, sqlite3, ODBC) and PostgreSQL (SQLAlchemy, psycopg, ODBC)."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest
import sqlalchemy as sa

from flock_nbext import score_sql
from flock_nbext.errors import DatabaseError, FlockError

N_ROWS = 2_345
CLASSES = np.array(["churn", "stay", "upgrade"])


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(7)
    X = rng.normal(size=(N_ROWS, 4)).astype(np.float32)
    y_class = CLASSES[(X[:, 0] > 0).astype(int) + (X[:, 1] > 1).astype(int)]
    y_value = X @ np.array([1.5, -2.0, 0.5, 0.0], dtype=np.float32) + 1
    return X, y_class, y_value


@pytest.fixture(scope="module")
def classifier(data):
    """A random forest and its skl2onnx graph (with skl2onnx's default ZipMap output)."""
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType
    from sklearn.ensemble import RandomForestClassifier

    X, y, _ = data
    model = RandomForestClassifier(n_estimators=5, max_depth=5, random_state=0).fit(X, y)
    onx = convert_sklearn(model, initial_types=[("input", FloatTensorType([None, 4]))], target_opset=17)
    return model, onx


@pytest.fixture(scope="module")
def regressor_file(data, tmp_path_factory):
    import onnx
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType
    from sklearn.linear_model import LinearRegression

    X, _, y = data
    model = LinearRegression().fit(X, y)
    path = tmp_path_factory.mktemp("models") / "regressor.onnx"
    onnx.save(convert_sklearn(model, initial_types=[("X", FloatTensorType([None, 4]))], target_opset=17), path)
    return model, str(path)


def _fill(engine, data, table="customers"):
    X, _, _ = data
    md = sa.MetaData()
    t = sa.Table(table, md, sa.Column("id", sa.BigInteger, primary_key=True),
                 *[sa.Column(f"f{i}", sa.Float) for i in range(4)], sa.Column("note", sa.String(20)))
    md.create_all(engine)
    with engine.begin() as conn:
        conn.execute(t.insert(), [{"id": 1000 + i, **{f"f{j}": float(X[i, j]) for j in range(4)}, "note": "n"}
                                  for i in range(len(X))])
    return t


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path, data):
    url = f"sqlite:///{tmp_path / 'scoring.db'}" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    eng = sa.create_engine(url)
    _fill(eng, data)
    yield eng
    eng.dispose()


def _read(engine, table="predictions"):
    with engine.connect() as conn:
        rows = conn.execute(sa.text(f"SELECT * FROM {table} ORDER BY id")).mappings().all()
    return rows


QUERY = "SELECT id, f0, f1, f2, f3 FROM customers"


def test_classifier_through_sqlalchemy(engine, data, classifier):
    X, _, _ = data
    model, onx = classifier
    report = score_sql(onx, engine, QUERY, out_table="predictions", key="id", batch_size=500, progress=False)
    assert (report.rows, report.batches) == (N_ROWS, 5)
    assert report.columns == ["id", "prediction", "proba_churn", "proba_stay", "proba_upgrade"]
    rows = _read(engine)
    assert [r["id"] for r in rows] == list(range(1000, 1000 + N_ROWS))
    assert [r["prediction"] for r in rows] == list(model.predict(X))
    proba = np.array([[r["proba_churn"], r["proba_stay"], r["proba_upgrade"]] for r in rows])
    np.testing.assert_allclose(proba, model.predict_proba(X), atol=1e-5)


def test_regressor_file_and_url_string_and_replace(engine, data, regressor_file):
    X, _, _ = data
    model, path = regressor_file
    url = engine.url.render_as_string(hide_password=False)
    score_sql(path, url, QUERY + " WHERE id < 1100", out_table="predictions", key="id", progress=False)
    report = score_sql(path, url, QUERY, out_table="predictions", key="id", batch_size=1000, if_exists="replace",
                       progress=False)
    assert report.columns == ["id", "prediction"]
    rows = _read(engine)
    np.testing.assert_allclose([r["prediction"] for r in rows], model.predict(X), rtol=1e-4, atol=1e-4)
    with pytest.raises(DatabaseError, match="already exists"):
        score_sql(path, engine, QUERY, out_table="predictions", key="id", if_exists="fail", progress=False)
    report = score_sql(path, engine, QUERY + " WHERE id < 1010", out_table="predictions", key="id", progress=False)
    assert len(_read(engine)) == N_ROWS + 10  # append is the default


def test_raw_sqlite3_connection(tmp_path, data, regressor_file):
    X, _, _ = data
    model, path = regressor_file
    db = tmp_path / "raw.db"
    eng = sa.create_engine(f"sqlite:///{db}")
    _fill(eng, data)
    con = sqlite3.connect(db)
    report = score_sql(path, con, "SELECT f0, f1, f2, f3, id FROM customers", out_table="scores", key="id",
                       batch_size=700, progress=False)
    con.close()
    assert report.batches == 4
    rows = _read(eng, "scores")
    np.testing.assert_allclose([r["prediction"] for r in rows], model.predict(X), rtol=1e-4, atol=1e-4)


def test_raw_psycopg_connection_uses_server_side_cursor(postgres_server, postgres_url, data, classifier):
    import psycopg

    X, _, _ = data
    model, onx = classifier
    eng = sa.create_engine(postgres_url)
    _fill(eng, data)
    with psycopg.connect(host=postgres_server.host, port=postgres_server.port, user=postgres_server.superuser,
                         dbname=postgres_url.rsplit("/", 1)[1]) as con:
        report = score_sql(onx, con, QUERY, out_table="p", key="id", batch_size=1000, progress=False)
    assert report.rows == N_ROWS
    assert [r["prediction"] for r in _read(eng, "p")] == list(model.predict(X))
    eng.dispose()


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
def test_raw_pyodbc_connection(backend, request, tmp_path, data, regressor_file):
    import pyodbc

    X, _, _ = data
    model, path = regressor_file
    if backend == "postgresql":
        server = request.getfixturevalue("postgres_server")
        url = request.getfixturevalue("postgres_url")
        odbc = (f"DRIVER={{PostgreSQL Unicode}};SERVER=127.0.0.1;PORT={server.port};"
                f"DATABASE={url.rsplit('/', 1)[1]};UID={server.superuser};UseDeclareFetch=1;Fetch=1000")
    else:
        url = f"sqlite:///{tmp_path / 'odbc.db'}"
        odbc = f"DRIVER={{SQLite3}};DATABASE={tmp_path / 'odbc.db'}"
    eng = sa.create_engine(url)
    _fill(eng, data)
    con = pyodbc.connect(odbc)
    report = score_sql(path, con, QUERY, out_table="odbc_scores", key="id", batch_size=1000, progress=False)
    con.close()
    assert report.rows == N_ROWS
    np.testing.assert_allclose([r["prediction"] for r in _read(eng, "odbc_scores")], model.predict(X),
                               rtol=1e-4, atol=1e-4)
    eng.dispose()


def test_flock_converted_model_and_progress_bar(tmp_path, data, classifier, capsys):
    import flock_nbext

    X, _, _ = data
    model, _ = classifier
    eng = sa.create_engine(f"sqlite:///{tmp_path / 'conv.db'}")
    _fill(eng, data)
    converted = flock_nbext.convert(model, progress=False)
    score_sql(converted, eng, QUERY, out_table="predictions", key="id", batch_size=1000, progress=True)
    assert "rows" in capsys.readouterr().err
    rows = _read(eng)
    assert [r["prediction"] for r in rows] == list(model.predict(X))
    eng.dispose()


def test_mlflow_model_uris(tmp_path, data, classifier):
    import mlflow

    X, _, _ = data
    model, onx = classifier
    eng = sa.create_engine(f"sqlite:///{tmp_path / 'uri.db'}")
    _fill(eng, data)
    with mlflow.start_run():
        onnx_info = mlflow.onnx.log_model(onx, name="onnx_model", pip_requirements=["onnxruntime"])
        native_info = mlflow.sklearn.log_model(model, name="native", pip_requirements=["scikit-learn"],
                                               skops_trusted_types=["sklearn.tree._tree.Tree"])
    for uri, table in [(onnx_info.model_uri, "from_onnx"), (native_info.model_uri, "from_native")]:
        score_sql(uri, eng, QUERY, out_table=table, key="id", progress=False)
        assert [r["prediction"] for r in _read(eng, table)] == list(model.predict(X))
    eng.dispose()


def test_without_key_and_with_explicit_features(tmp_path, data, regressor_file):
    model, path = regressor_file
    eng = sa.create_engine(f"sqlite:///{tmp_path / 'nokey.db'}")
    _fill(eng, data)
    report = score_sql(path, eng, "SELECT note, f0, f1, f2, f3 FROM customers", out_table="s",
                       features=["f0", "f1", "f2", "f3"], progress=False)
    assert report.columns == ["prediction"] and report.rows == N_ROWS
    eng.dispose()


def test_bad_input_is_clear_and_writes_nothing(engine, regressor_file):
    _, path = regressor_file
    with pytest.raises(DatabaseError, match="missing_table") as err:
        score_sql(path, engine, "SELECT * FROM missing_table", out_table="o", key="id", progress=False)
    assert engine.url.database.rsplit("/", 1)[-1] in str(err.value)
    with pytest.raises(DatabaseError, match="key column 'customer_id' is not in the query result"):
        score_sql(path, engine, QUERY, out_table="o", key="customer_id", progress=False)
    with pytest.raises(FlockError, match="expects 4 features but the query gives 5"):
        score_sql(path, engine, "SELECT id, f0, f1, f2, f3, id AS again FROM customers", out_table="o", key="id",
                  progress=False)
    with pytest.raises(FlockError, match="'note' is not numeric"):
        score_sql(path, engine, "SELECT id, f0, f1, f2, note FROM customers", out_table="o", key="id",
                  batch_size=100, progress=False)
    with pytest.raises(DatabaseError, match="has columns"):
        score_sql(path, engine, QUERY, out_table="customers", key="id", progress=False)
    with engine.connect() as conn:
        assert not sa.inspect(conn).has_table("o")


def test_failure_mid_stream_rolls_back_earlier_batches(engine, regressor_file):
    _, path = regressor_file
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE customers SET note = 'x' WHERE id = 2200"))
    query = "SELECT id, f0, f1, f2, CASE WHEN note = 'x' THEN note ELSE '1.0' END AS f3 FROM customers ORDER BY id"
    with pytest.raises(FlockError, match="not numeric"):
        score_sql(path, engine, query, out_table="o", key="id", batch_size=100, if_exists="append", progress=False)
    with engine.connect() as conn:
        count = conn.execute(sa.text("SELECT COUNT(*) FROM o")).scalar() if sa.inspect(conn).has_table("o") else 0
    assert count == 0  # 11 batches were scored before the bad row; none of them stayed


def test_wrong_password_is_named_not_shown(postgres_server, postgres_database, regressor_file):
    _, path = regressor_file
    url = postgres_server.url(postgres_database, user="flock_pw", password="Wr0ng-Pa55")
    with pytest.raises(DatabaseError) as err:
        score_sql(path, url, QUERY, out_table="o", key="id", progress=False)
    text = str(err.value)
    assert "Wr0ng-Pa55" not in text and "flock_pw" in text and postgres_database in text
    assert "password authentication failed" in text
