#!/usr/bin/python3
"""Write the bash, zsh and fish completions from agcod's own command and
option tables (agcod --list-table, --list-options CMD), so they cannot drift
from the code.  tests/e2e/test_docs.py fails when the committed files differ
from what this script writes; tests/e2e/test_completions.py drives them.

    /usr/bin/python3 tools/gen_completions.py ./agcod completions

What an option's value completes to comes from its metavar in the table:
'a|b|c' the choices, FILE files, DIR directories; --profile the profile
names of the configuration file ('agcod config profiles'); the values the
table lists for an option ('value --state issued'), but for one with a space
('not sent'), which no shell completes as one word.  What a command's
operands complete to comes from its synopsis: a lower-case word is a literal
(batch create, config list), FILE a file, OPERATION a sending command.
"""
import os
import subprocess
import sys


class Table:
    def __init__(self, agcod):
        run = lambda *a: subprocess.run([agcod, *a], capture_output=True,
                                        text=True, check=True).stdout
        self.cmds, self.summary, self.ops = [], {}, []
        self.usage, self.opt, self.values, self.cmd_help = {}, {}, {}, {}
        for line in run("--list-table").splitlines():
            kind, *f = line.split("\t")
            if kind == "command":
                self.cmds.append(f[0])
                self.summary[f[0]] = f[1]
                if f[2] == "operation":
                    self.ops.append(f[0])
            elif kind == "usage":
                self.usage.setdefault(f[0], []).append(f[1])
            elif kind == "value":
                if " " not in f[1]:
                    self.values.setdefault(f[0], []).append(f[1])
            elif kind == "option":
                self.opt[f[0]] = {"short": None if f[1] == "-" else f[1],
                                  "arg": None if f[2] == "-" else f[2],
                                  "help": f[3]}
            elif kind == "help":        # what the option means under f[0]
                self.cmd_help[(f[0], f[1])] = f[2]
        self.opts = {c: run("--list-options", c).split() for c in self.cmds}
        self.globals = [o for o in self.opts[self.cmds[0]]
                        if all(o in self.opts[c] for c in self.cmds)]
        self.operands = {c: self._operands(c) for c in self.cmds}
        # commands whose first operand is an OPERATION (sign-debug): once
        # it is given, their own options and that operation's
        self.takes_op = [c for c in self.cmds
                         if self.operands[c].get(0, ([], False, False))[2]]
        self.own = {c: [o for o in self.opts[c] if o not in self.globals]
                    for c in self.cmds}

    def desc(self, o, c=None, op=None):
        """option o's help under command c (its OPERATION op's, when o is
        one of op's options)"""
        for k in ((op, o) if op and o in self.own.get(op, ()) else None, (c, o)):
            if k and k in self.cmd_help:
                return self.cmd_help[k]
        return self.opt[o]["help"]

    def with_op(self, c, op):
        """the options of command c once its OPERATION op is given"""
        theirs = {o for x in self.ops for o in self.own[x]}
        return [o for o in self.own[c] if o not in theirs or o in self.own[op]]

    def value(self, o):
        """what the value of option o completes to: (kind, words)"""
        arg = self.opt[o]["arg"]
        if o == "--profile":
            return ("profiles", None)
        if o in self.values:
            return ("words", self.values[o])
        if "|" in arg:
            return ("words", arg.split("|"))
        return {"FILE": ("files", None), "DIR": ("dirs", None)}.get(arg, ("none", None))

    def valued(self):
        """every option that takes a value, and its short form"""
        out = []
        for o, m in self.opt.items():
            if m["arg"]:
                out.append((o, m["short"]))
        return out

    def _operands(self, c):
        """per operand position: (literal words, files?, operations?)"""
        pos = {}
        for u in self.usage.get(c, []):
            for i, tok in enumerate(u.split()[1:]):
                if tok.startswith("[") or tok.startswith("-"):
                    break
                words, files, ops = pos.get(i, ([], False, False))
                if tok == "FILE":
                    files = True
                elif tok == "OPERATION":
                    ops = True
                elif tok.islower():
                    words = words + [tok]
                pos[i] = (words, files, ops)
        return pos


def q(s):
    """single-quoted for the shell"""
    return "'" + s.replace("'", "'\\''") + "'"


# ---- bash ----

def bash(t):
    valued = []
    for o, s in t.valued():
        valued += [o] + ([s] if s else [])
    value_cases = ""
    for o, s in t.valued():
        kind, words = t.value(o)
        pat = "|".join([o] + ([s] if s else []))
        if kind == "words":
            act = f'COMPREPLY=($(compgen -W "{" ".join(words)}" -- "$cur"))'
        elif kind == "files":
            act = 'compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur"))'
        elif kind == "dirs":
            act = 'compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -d -- "$cur"))'
        elif kind == "profiles":
            act = 'COMPREPLY=($(compgen -W "$(_agcod_profiles "${COMP_WORDS[0]}" "$cfg")" -- "$cur"))'
        else:
            continue
        value_cases += f"            {pat}) {act} ;;\n"
    own = lambda c: " ".join(t.own[c])
    opt_cases = ""
    for c in t.cmds:
        if c in t.takes_op:
            inner = "".join(f"                {op}) opts=\"$g {' '.join(t.with_op(c, op))}\" ;;\n"
                            for op in t.ops)
            opt_cases += (f"            {c})\n                case ${{operands[0]}} in\n{inner}"
                          f"                *) opts=\"$g {own(c)}\" ;;\n                esac ;;\n")
        elif own(c):
            opt_cases += f"            {c}) opts=\"$g {own(c)}\" ;;\n"
        else:
            opt_cases += f"            {c}) opts=$g ;;\n"
    operand_cases = ""
    for c in t.cmds + ["help"]:
        pos = {0: ([], False, False)} if c == "help" else t.operands[c]
        if not pos:
            continue
        inner = ""
        for i, (words, files, ops) in sorted(pos.items()):
            acts = []
            w = words + (t.ops if ops else []) + (t.cmds if c == "help" else [])
            if files:
                acts.append('compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur"))')
            if w:
                acts.append(f'COMPREPLY+=($(compgen -W "{" ".join(w)}" -- "$cur"))')
            inner += f"            {i}) {'; '.join(acts)} ;;\n"
        operand_cases += (f"        {c})\n            case ${{#operands[@]}} in\n"
                          f"{inner}            esac ;;\n")
    return f"""# bash completion for agcod -*- shell-script -*-
# Generated by tools/gen_completions.py from agcod's command table.

# the profile names of the configuration file (-c FILE when given)
_agcod_profiles()
{{
    "$1" ${{2:+-c "$2"}} config profiles 2>/dev/null
}}

_agcod()
{{
    local cur=${{COMP_WORDS[COMP_CWORD]}} w cmd="" cfg="" want="" opts i
    local -a operands=()
    COMPREPLY=()
    [[ $cur == = ]] && cur=""
    # the command and its operands so far; an option's value is neither
    for ((i = 1; i < COMP_CWORD; i++)); do
        w=${{COMP_WORDS[i]}}
        [[ $w == = ]] && continue
        if [[ -n $want ]]; then
            [[ $want == -c || $want == --config ]] && cfg=$w
            want=""
            continue
        fi
        case $w in
            --config=*) cfg=${{w#*=}} ;;
            --*=*) ;;
            {'|'.join(valued)}) want=$w ;;
            -*) ;;
            *) if [[ -z $cmd ]]; then cmd=$w; else operands+=("$w"); fi ;;
        esac
    done
    if [[ -n $want ]]; then
        case $want in
{value_cases}        esac
        return
    fi
    if [[ $cur == -* ]]; then
        local g="{' '.join(t.globals)}"
        case $cmd in
            "") opts=$g ;;
{opt_cases}            *) return ;;
        esac
        COMPREPLY=($(compgen -W "$opts" -- "$cur"))
        return
    fi
    case $cmd in
        "") COMPREPLY=($(compgen -W "{' '.join(t.cmds)} help" -- "$cur")) ;;
{operand_cases}    esac
}}
complete -F _agcod agcod
"""


# ---- zsh ----

def zdesc(name, text):
    return q(name.replace(":", "\\:") + ":" + text)


def zsh(t):
    valued = []
    for o, s in t.valued():
        valued += [o] + ([s] if s else [])
    value_cases = ""
    for o, s in t.valued():
        kind, words = t.value(o)
        pat = "|".join([o] + ([s] if s else []))
        act = {"words": f"compadd -- {' '.join(words or [])}",
               "files": "_files", "dirs": "_files -/",
               "profiles": 'compadd -- ${(f)"$(_agcod_profiles $words[1] $cfg)"}',
               "none": "_message 'a value'"}[kind]
        value_cases += f"    ({pat}) {act} ;;\n"
    cmd_descs = " ".join(zdesc(c, t.summary[c]) for c in t.cmds)
    opt_cases = ""
    zd = lambda os_, c, op=None: " ".join(zdesc(o, t.desc(o, c, op)) for o in os_)
    for c in t.cmds:
        if c in t.takes_op:
            inner = "".join(f"          ({op}) opts=($glob {zd(t.with_op(c, op), c, op)}) ;;\n"
                            for op in t.ops)
            opt_cases += (f"      ({c})\n        case $operands[1] in\n{inner}"
                          f"          (*) opts=($glob {zd(t.own[c], c)}) ;;\n        esac ;;\n")
        else:
            opt_cases += f"      ({c}) opts=($glob {zd(t.own[c], c)}) ;;\n".replace(" )", ")")
    glob = " ".join(zdesc(o, t.opt[o]["help"]) for o in t.globals)
    operand_cases = ""
    for c in t.cmds + ["help"]:
        pos = {0: ([], False, False)} if c == "help" else t.operands[c]
        if not pos:
            continue
        inner = ""
        for i, (words, files, ops) in sorted(pos.items()):
            acts = []
            if c == "help" or ops:
                names = t.cmds if c == "help" else t.ops
                acts.append("local -a cmds=(" + " ".join(
                    zdesc(n, t.summary[n]) for n in names) + "); _describe -t commands command cmds")
            if words:
                acts.append(f"compadd -- {' '.join(words)}")
            if files:
                acts.append("_files")
            inner += f"        ({i}) {'; '.join(acts)} ;;\n"
        operand_cases += f"    ({c})\n      case ${{#operands}} in\n{inner}      esac ;;\n"
    return f"""#compdef agcod
# zsh completion for agcod. Generated by tools/gen_completions.py from
# agcod's command table.

# the profile names of the configuration file (-c FILE when given)
_agcod_profiles() {{
  $1 ${{2:+-c}} ${{2:+$2}} config profiles 2>/dev/null
}}

_agcod() {{
  local cmd= cfg= want= w i
  local -a operands opts
  # the command and its operands so far; an option's value is neither
  for ((i = 2; i < CURRENT; i++)); do
    w=$words[i]
    if [[ -n $want ]]; then
      [[ $want == (-c|--config) ]] && cfg=$w
      want=
      continue
    fi
    case $w in
      (--config=*) cfg=${{w#*=}} ;;
      (--*=*) ;;
      ({'|'.join(valued)}) want=$w ;;
      (-*) ;;
      (*) if [[ -z $cmd ]]; then cmd=$w; else operands+=($w); fi ;;
    esac
  done
  if [[ -n $want ]]; then
    case $want in
{value_cases}    esac
    return
  fi
  if [[ $PREFIX == -* ]]; then
    local -a glob=({glob})
    case $cmd in
      ('') opts=($glob) ;;
{opt_cases}      (*) return 1 ;;
    esac
    _describe -t options option opts
    return
  fi
  case $cmd in
    ('')
      local -a cmds=({cmd_descs} 'help:usage of agcod or a command')
      _describe -t commands command cmds ;;
{operand_cases}  esac
}}

_agcod "$@"
"""


# ---- fish ----

def fish(t):
    valued = []
    for o, s in t.valued():
        valued += [o] + ([s] if s else [])
    out = ["# fish completion for agcod. Generated by tools/gen_completions.py from",
           "# agcod's command table.",
           "",
           "# the command, the number of its operands and -c's value so far;",
           "# an option's value is neither a command nor an operand",
           "function __agcod_state",
           "    set -l cmd; set -l n 0; set -l cfg; set -l want; set -l first",
           "    for w in (commandline -opc)[2..-1]",
           "        if test -n \"$want\"",
           "            contains -- $want -c --config; and set cfg $w",
           "            set want",
           "            continue",
           "        end",
           "        switch $w",
           "            case '--config=*'",
           "                set cfg (string replace -- --config= '' $w)",
           "            case '--*=*'",
           f"            case {' '.join(valued)}",
           "                set want $w",
           "            case '-*'",
           "            case '*'",
           "                if test -z \"$cmd\"",
           "                    set cmd $w",
           "                else",
           "                    test $n -eq 0; and set first $w",
           "                    set n (math $n + 1)",
           "                end",
           "        end",
           "    end",
           "    echo \"c$cmd\"; echo $n; echo \"f$cfg\"; echo \"o$first\"",
           "end",
           "",
           "# __agcod_with CMD OP: the command is CMD and its first operand OP",
           "function __agcod_with",
           "    set -l s (__agcod_state)",
           "    test \"$s[1]\" = \"c$argv[1]\"; and test \"$s[4]\" = \"o$argv[2]\"",
           "end",
           "",
           "# __agcod_no_op CMD: the command is CMD and no operation is given yet",
           "function __agcod_no_op",
           "    set -l s (__agcod_state)",
           "    test \"$s[1]\" = \"c$argv[1]\"; and test \"$s[2]\" = 0",
           "end",
           "",
           "function __agcod_no_command",
           "    set -l s (__agcod_state)",
           "    test \"$s[1]\" = c",
           "end",
           "",
           "# __agcod_at CMD [N]: the command is CMD (and N operands are given)",
           "function __agcod_at",
           "    set -l s (__agcod_state)",
           "    test \"$s[1]\" = \"c$argv[1]\"; or return 1",
           "    test (count $argv) -lt 2; or test \"$s[2]\" = $argv[2]",
           "end",
           "",
           "function __agcod_profiles",
           "    set -l s (__agcod_state)",
           "    set -l cfg (string sub -s 2 -- $s[3])",
           "    set -l agcod (commandline -opc)[1]",
           "    if test -n \"$cfg\"",
           "        $agcod -c $cfg config profiles 2>/dev/null",
           "    else",
           "        $agcod config profiles 2>/dev/null",
           "    end",
           "end",
           "",
           "complete -c agcod -f"]
    for c in t.cmds:
        out.append(f"complete -c agcod -n __agcod_no_command -a {c} -d {q(t.summary[c])}")
    out.append("complete -c agcod -n __agcod_no_command -a help "
               "-d 'usage of agcod or a command'")

    def optline(o, cond, cmd=None, op=None):
        m = t.opt[o]
        spec = f"-l {o[2:]}" + (f" -s {m['short'][1:]}" if m["short"] else "")
        extra = ""
        if m["arg"]:
            kind, words = t.value(o)
            extra = {"words": f" -x -a {q(' '.join(words or []))}",
                     "files": " -r -F",
                     "dirs": " -x -a '(__fish_complete_directories)'",
                     "profiles": " -x -a '(__agcod_profiles)'",
                     "none": " -x"}[kind]
        c = f" -n {q(cond)}" if cond else ""
        return f"complete -c agcod{c} {spec}{extra} -d {q(t.desc(o, cmd, op))}"

    for o in t.globals:
        out.append(optline(o, None))
    for c in t.cmds:
        if c in t.takes_op:
            theirs = {o for x in t.ops for o in t.own[x]}
            for o in t.own[c]:
                if o not in theirs:
                    out.append(optline(o, f"__agcod_at {c}", c))
            for o in t.own[c]:
                if o in theirs:
                    out.append(optline(o, f"__agcod_no_op {c}", c))
            for op in t.ops:
                for o in t.with_op(c, op):
                    if o in theirs:
                        out.append(optline(o, f"__agcod_with {c} {op}", c, op))
            continue
        for o in t.own[c]:
            out.append(optline(o, f"__agcod_at {c}", c))
    for c in t.cmds + ["help"]:
        pos = {0: ([], False, False)} if c == "help" else t.operands[c]
        for i, (words, files, ops) in sorted(pos.items()):
            cond = q(f"__agcod_at {c} {i}")
            names = t.cmds if c == "help" else t.ops if ops else []
            for n in names:
                out.append(f"complete -c agcod -n {cond} -a {n} -d {q(t.summary[n])}")
            for w in words:
                out.append(f"complete -c agcod -n {cond} -a {w}")
            if files:
                out.append(f"complete -c agcod -n {cond} -F")
    return "\n".join(out) + "\n"


def generate(agcod):
    t = Table(agcod)
    return {"agcod.bash": bash(t), "_agcod": zsh(t), "agcod.fish": fish(t)}


if __name__ == "__main__":
    agcod, outdir = sys.argv[1], sys.argv[2]
    for name, text in generate(agcod).items():
        with open(os.path.join(outdir, name), "w") as f:
            f.write(text)
