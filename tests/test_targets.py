import pickle

import pytest

from loadtool.errors import UsageError
from loadtool.targets import (CHECKPOINT_EVERY, FixturePaths, InvalidTarget, ItemList, LinesFile,
                              url_problem, url_targets)


def _take(source, start, stop):
    return [target for _, target in source.iter_from(start, stop)]


def test_a_short_list_cycles_and_expands_the_index():
    source = ItemList(("http://a/{i}", "http://b/"))
    assert _take(source, 0, 5) == ["http://a/0", "http://b/", "http://a/2", "http://b/", "http://a/4"]
    assert source.distinct() is None


@pytest.fixture
def url_file(tmp_path):
    path = tmp_path / "urls.txt"
    lines = []
    for n in range(3 * CHECKPOINT_EVERY + 17):
        if n % 7 == 0:
            lines.append("# a comment")
        if n % 11 == 0:
            lines.append("   ")
        lines.append(f"http://127.0.0.1/item/{n}")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_url_file_skips_blank_lines_and_comments(url_file):
    source = LinesFile.index(str(url_file))
    assert source.distinct() == 3 * CHECKPOINT_EVERY + 17
    assert _take(source, 0, 3) == ["http://127.0.0.1/item/0", "http://127.0.0.1/item/1", "http://127.0.0.1/item/2"]


def test_any_slice_of_a_url_file_matches_the_whole_in_order(url_file):
    source = LinesFile.index(str(url_file))
    whole = _take(source, 0, 2 * source.lines + 5)
    for start in (0, 1, CHECKPOINT_EVERY - 1, CHECKPOINT_EVERY, 2 * CHECKPOINT_EVERY + 3, source.lines + 2):
        assert _take(source, start, start + 40) == whole[start:start + 40]


def test_a_url_file_index_is_sparse_and_picklable(url_file):
    source = LinesFile.index(str(url_file))
    assert len(source.offsets) == 4
    assert _take(pickle.loads(pickle.dumps(source)), 100, 103) == _take(source, 100, 103)


def test_invalid_lines_in_a_url_file_become_invalid_targets(tmp_path):
    path = tmp_path / "urls.txt"
    path.write_bytes(b"http://ok.example/\nftp://nope/\nnot a url\n\xff\xfe://x\n")
    targets = _take(LinesFile.index(str(path)), 0, 4)
    assert targets[0] == "http://ok.example/"
    assert all(isinstance(target, InvalidTarget) for target in targets[1:])


@pytest.mark.parametrize("url", ["http://h/", "https://h:8443/a?b=c", "http://127.0.0.1/{i}"])
def test_good_urls_pass(url):
    assert url_problem(url) is None


@pytest.mark.parametrize("url", ["ftp://h/", "h/path", "http:///path", "http://h:99999/", "http://h/a b"])
def test_bad_urls_are_named(url):
    assert url_problem(url)


def test_no_url_means_the_fixture_site():
    source = url_targets((), None, seed=3, profile="api")
    assert isinstance(source, FixturePaths) and source.paths == ("/page/{i}",) and source.seed == 3


def test_fixture_paths_know_their_latency():
    source = url_targets(("/delay/120",), None, seed=0, profile="web")
    assert source.latency_s(5) == pytest.approx(0.12)
    assert url_targets(("/bytes/10",), None, 0, "web").latency_s(0) == 0.0


@pytest.mark.parametrize("urls", [("/delay/1", "http://h/"), ("mailto:x@y",), ("http://",)])
def test_unusable_url_arguments_are_usage_errors(urls):
    with pytest.raises(UsageError):
        url_targets(urls, None, 0, "web")


def test_an_empty_url_file_is_a_usage_error(tmp_path):
    path = tmp_path / "empty.txt"
    path.write_text("# only a comment\n\n")
    with pytest.raises(UsageError, match="no URLs"):
        url_targets((), str(path), 0, "web")
