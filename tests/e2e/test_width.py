"""Tables pad by display width, not bytes: 'García' takes 6 columns and
'日本' 4, so the next column starts at the same place on every line
(issue 19 item 11)."""
import unicodedata


def columns(text):
    """display columns of text, as a terminal shows it"""
    w = 0
    for ch in text:
        if unicodedata.combining(ch):
            continue
        w += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return w


def start_of(line, token):
    i = line.index(token)
    return columns(line[:i])


NAMES = ("García", "日本語テスト", "Zoë", "plain")


def test_history_table_aligns_wide_and_accented_references(agcod, emu):
    for n in NAMES:
        r = agcod("create", "--amount", "1", "--external-reference", n, "-o", "json")
        assert r.rc == 0, r
    r = agcod("history", "-o", "table")
    assert r.rc == 0, r
    lines = r.out.splitlines()
    head, rows = lines[0], lines[1:]
    assert len(rows) == len(NAMES), r.out
    # every row ends with its empty ERROR cell, under the header's ERROR
    col = start_of(head, "ERROR")
    for line in rows:
        assert columns(line[:line.rindex(" ") + 1]) == col, (line, r.out)


def test_batch_table_aligns_wide_and_accented_names(agcod, emu, tmp_path):
    f = tmp_path / "team.csv"
    f.write_text("name,amount\n" + "".join(f"{n},1\n" for n in NAMES),
                 encoding="utf-8")
    r = agcod("batch", "create", f, "-o", "table")
    assert r.rc == 0, r
    lines = r.out.splitlines()
    head, rows = lines[0], lines[1:]
    assert len(rows) == len(NAMES), r.out
    col = start_of(head, "REQUEST ID")
    for line in rows:
        assert start_of(line, "Acme1") == col, (line, r.out)


def test_config_list_aligns_a_path_with_accents(offline, tmp_path):
    d = tmp_path / "José-日本"
    d.mkdir()
    cfg = d / "config.ini"
    cfg.write_text(offline.config.read_text())
    cfg.chmod(0o600)
    r = offline("config", "list", "-o", "table", env={"AGCOD_CONFIG": str(cfg)})
    assert r.rc == 0, r
    lines = r.out.splitlines()
    cfg_line = [l for l in lines if l.startswith("config ")][0]
    rid_line = [l for l in lines if l.startswith("region ")][0]
    # the origin column starts at the same place on both lines
    assert start_of(cfg_line, "  AGCOD_CONFIG") == start_of(rid_line, "  " + rid_line.split()[-1]), r.out
