"""`portcheck completion SHELL`: a completion script made from the argparse table.

`commands` maps each subcommand ("" for the lookup, the command without one)
to its option strings, as `_cli.command_table()` reads them from the parsers:
a new option completes without anyone editing this file.
"""

from __future__ import annotations

SHELLS = ("bash", "zsh", "fish", "powershell")


def script(shell: str, commands: dict[str, list[str]]) -> str:
    """The script for `shell` (one of `SHELLS`); ValueError for another."""
    makers = {"bash": _bash, "zsh": _zsh, "fish": _fish, "powershell": _powershell}
    if shell not in makers:
        raise ValueError(f"no completion for {shell!r}; expected one of {', '.join(SHELLS)}")
    return makers[shell](commands)


def _names(commands: dict[str, list[str]]) -> list[str]:
    return [name for name in commands if name]


def _bash(commands: dict[str, list[str]]) -> str:
    cases = "".join(
        f"        {name or '*'}) opts={' '.join(options)!r} ;;\n"
        for name, options in sorted(commands.items(), key=lambda kv: kv[0] == "")
    )
    return f"""\
# portcheck completion for bash: source it, or put it in your bash-completion dir.
_portcheck() {{
    local cur="${{COMP_WORDS[COMP_CWORD]}}" sub="" word opts
    for word in "${{COMP_WORDS[@]:1:COMP_CWORD-1}}"; do
        case "$word" in {"|".join(_names(commands))}) sub="$word"; break ;; esac
    done
    case "$sub" in
{cases}    esac
    if [[ "$cur" == -* ]]; then
        COMPREPLY=($(compgen -W "$opts" -- "$cur"))
    elif [[ -z "$sub" ]]; then
        COMPREPLY=($(compgen -W "{" ".join(_names(commands))}" -- "$cur"))
    fi
}}
complete -F _portcheck portcheck
"""


def _zsh(commands: dict[str, list[str]]) -> str:
    return (
        "#compdef portcheck\n"
        "# portcheck completion for zsh: put it in a directory of $fpath as _portcheck.\n"
        "autoload -U bashcompinit && bashcompinit\n" + _bash(commands)
    )


def _fish(commands: dict[str, list[str]]) -> str:
    names = " ".join(_names(commands))
    lines = [
        "# portcheck completion for fish: save as ~/.config/fish/completions/portcheck.fish",
        f"complete -c portcheck -n 'not __fish_seen_subcommand_from {names}' -f -a '{names}'",
    ]
    for name, options in commands.items():
        when = (
            f"__fish_seen_subcommand_from {name}"
            if name
            else f"not __fish_seen_subcommand_from {names}"
        )
        for option in options:
            flag = f"-l {option[2:]}" if option.startswith("--") else f"-s {option[1:]}"
            lines.append(f"complete -c portcheck -n '{when}' {flag}")
    return "\n".join(lines) + "\n"


def _powershell(commands: dict[str, list[str]]) -> str:
    table = "\n".join(
        f"    '{name}' = @({', '.join(repr(o) for o in options)})"
        for name, options in commands.items()
    )
    return f"""\
# portcheck completion for PowerShell: add it to your $PROFILE.
Register-ArgumentCompleter -Native -CommandName portcheck -ScriptBlock {{
  param($wordToComplete, $commandAst, $cursorPosition)
  $options = @{{
{table}
  }}
  $sub = ''
  foreach ($e in $commandAst.CommandElements | Select-Object -Skip 1) {{
    if ($options.ContainsKey("$e") -and "$e" -ne '') {{ $sub = "$e"; break }}
  }}
  $words = if ($wordToComplete -like '-*' -or $sub) {{ $options[$sub] }}
           else {{ $options.Keys | Where-Object {{ $_ }} }}
  $words | Where-Object {{ $_ -like "$wordToComplete*" }} | ForEach-Object {{
    [System.Management.Automation.CompletionResult]::new($_, $_, 'ParameterValue', $_)
  }}
}}
"""
