"""api.generation.stops: find, and StopScanner checked against cutting at what find finds, for texts fed in every way a stream can split
them. The property tests draw thousands of cases from random.Random(seed): deterministic, and no
hypothesis dependency."""
import random

import pytest

from api.generation.stops import MAX_STOPS, StopScanner, find


def cut(text, stops):
    """The reference: the text before the stop sequence that completes first, and whether one did."""
    start, _ = find(text, stops)
    return (text[:start], True) if start >= 0 else (text, False)


ALPHABET = "ab\n."  # few symbols, so stop sequences and their prefixes turn up everywhere
CASES = 3000


def random_text(rng: random.Random, size: int) -> str:
    return "".join(rng.choice(ALPHABET) for _ in range(size))


def random_case(rng: random.Random):
    """(text, stops): up to MAX_STOPS stops of 1-4 symbols; half the texts hold one for sure."""
    stops = [random_text(rng, rng.randint(1, 4)) for _ in range(rng.randint(1, MAX_STOPS))]
    text = random_text(rng, rng.randint(0, 30))
    if rng.random() < 0.5:
        at = rng.randint(0, len(text))
        text = text[:at] + rng.choice(stops) + text[at:]
    return text, stops


def random_pieces(rng: random.Random, text: str):
    """`text` cut at random places, empty pieces included (upstream sends empty responses)."""
    points = sorted(rng.randint(0, len(text)) for _ in range(rng.randint(0, len(text) + 2)))
    return [text[a:b] for a, b in zip([0, *points], [*points, len(text)])]


def nests(stops) -> bool:
    """Whether a stop sits strictly inside another (see the last test)."""
    return any(inner != outer and inner in outer[1:-1] for inner in stops for outer in stops)


def scan(stops, pieces):
    """(what the scanner let out, flush included unless it stopped; the scanner)."""
    scanner = StopScanner(stops)
    out = "".join(scanner.feed(piece) for piece in pieces)
    return out + ("" if scanner.stopped else scanner.flush()), scanner


def cases(seed: int):
    rng = random.Random(seed)
    for _ in range(CASES):
        text, stops = random_case(rng)
        if not nests(stops):
            yield text, stops, random_pieces(rng, text)


# --- cut and find ---------------------------------------------------------------------------------

@pytest.mark.parametrize("text,stops,expected", [
    ("Hello\nWorld", ["\n"], ("Hello", True)),
    ("Hello\nWorld", ["World", "\n"], ("Hello", True)),  # the earliest, whatever the list's order
    ("Hello", ["x"], ("Hello", False)),
    ("END first", ["END"], ("", True)),
    ("last END", ["END"], ("last ", True)),
    ("a END b END", ["END"], ("a ", True)),
    ("", ["x"], ("", False)),
    ("no stops", [], ("no stops", False)),
])
def test_cut(text, stops, expected):
    assert cut(text, stops) == expected


@pytest.mark.parametrize("text,stops,expected", [
    ("xabc", ["abc", "ab"], (1, 3)),
    ("xabc", ["bc", "abc"], (1, 4)),
    ("abc", ["z"], (-1, -1)),
])
def test_find(text, stops, expected):
    assert find(text, stops) == expected


# --- StopScanner: examples ------------------------------------------------------------------------

def test_a_possible_start_is_held_back_and_flushed_at_the_end():
    scanner = StopScanner(["END"])
    assert (scanner.feed("The EN"), scanner.held) == ("The ", "EN")
    assert (scanner.flush(), scanner.held, scanner.stopped) == ("EN", "", False)


def test_held_text_goes_out_once_it_cannot_be_a_stop():
    scanner = StopScanner(["END"])
    assert [scanner.feed(p) for p in ("The E", "N", "DLESS", " story")] == ["The ", "", "", ""]
    assert (scanner.stopped, scanner.after) == (True, "LESS")


def test_after_holds_what_followed_the_stop_and_nothing_more_goes_out():
    scanner = StopScanner(["STOP"])
    assert (scanner.feed("abc ST"), scanner.feed("OP rest")) == ("abc ", "")
    assert (scanner.stopped, scanner.after) == (True, " rest")
    assert (scanner.feed("more"), scanner.flush(), scanner.after) == ("", "", " rest")


def test_one_character_at_a_time():
    text = "one, two; three. four"
    out, scanner = scan([";", "."], list(text))
    assert (out, scanner.after) == ("one, two", "")


@pytest.mark.parametrize("stops", [[], [""], ["", ""]])
def test_no_stops_pass_everything_at_once(stops):
    scanner = StopScanner(stops)
    assert [scanner.feed(p) for p in ("a", "", "bc")] == ["a", "", "bc"]
    assert (scanner.flush(), scanner.stopped) == ("", False)


# --- StopScanner: properties ----------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(3))
def test_any_split_lets_out_exactly_what_cut_keeps(seed):
    checked = 0
    for text, stops, pieces in cases(seed):
        out, scanner = scan(stops, pieces)
        assert (out, scanner.stopped) == cut(text, stops), (text, stops, pieces)
        checked += 1
    assert checked > CASES // 2


@pytest.mark.parametrize("seed", range(3, 6))
def test_nothing_that_goes_out_is_ever_taken_back(seed):
    """Every prefix let out is a prefix of the final answer: a stop's beginning never goes out."""
    for text, stops, pieces in cases(seed):
        kept, _ = cut(text, stops)
        scanner, out = StopScanner(stops), ""
        for piece in pieces:
            out += scanner.feed(piece)
            assert kept.startswith(out), (text, stops, pieces, out)


@pytest.mark.parametrize("seed", range(6, 9))
def test_only_a_possible_start_of_a_stop_is_held(seed):
    for text, stops, pieces in cases(seed):
        scanner, out, fed = StopScanner(stops), "", ""
        for piece in pieces:
            out, fed = out + scanner.feed(piece), fed + piece
            if scanner.stopped:
                break
            assert out + scanner.held == fed
            assert scanner.held == "" or any(s.startswith(scanner.held) and s != scanner.held for s in stops)


@pytest.mark.parametrize("seed", range(9, 12))
def test_after_is_what_followed_the_stop(seed):
    for text, stops, pieces in cases(seed):
        scanner, out, fed = StopScanner(stops), "", ""
        for piece in pieces:
            out, fed = out + scanner.feed(piece), fed + piece
            if scanner.stopped:
                assert any(fed == out + s + scanner.after for s in stops), (text, stops, pieces)
                break


@pytest.mark.parametrize("seed", range(12, 15))
def test_flush_returns_the_held_text(seed):
    for text, stops, pieces in cases(seed):
        scanner = StopScanner(stops)
        for piece in pieces:
            scanner.feed(piece)
        held = scanner.held
        assert scanner.flush() == ("" if scanner.stopped else held)
        assert scanner.held == ""


@pytest.mark.parametrize("pieces", [["abcd"], ["abc", "d"], ["a", "b", "c", "d"]])
def test_a_stop_inside_another_gives_the_same_answer_however_the_text_is_split(pieces):
    # "bc" completes inside "abcd" before "abcd" does: the answer must not depend on where the
    # stream happened to split (whole answers are cut with cut()).
    assert scan(["abcd", "bc"], pieces)[0] == cut("abcd", ["abcd", "bc"])[0]
