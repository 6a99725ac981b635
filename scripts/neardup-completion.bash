# bash completion for neardup                              -*- shell-script -*-
#
# Completes the commands, the index actions, the long options (read from
# the command's own `--help`, so an option added to neardup needs no change
# here), the choices of the options that take one word of a list, directory
# names for --tmpdir and --index, and file names everywhere else.
# `make install` puts it where bash-completion loads it on first use
# (PREFIX/share/bash-completion/completions/neardup); `. FILE` loads it by hand.

# The long options of the command in $1 ("index" adds the index options to
# those of cluster), one a line, with " V" after those that take a value.
_neardup_options()
{
    local nd=$1 help
    help=$("$nd" cluster --help 2>/dev/null)
    [[ $2 == index ]] && help+=$'\n'$("$nd" index --help 2>/dev/null)
    printf '%s\n' "$help" | grep -oE -- '(^|[ ,])--[a-z][a-z0-9-]*( [A-Z]+\b)?' |
        sed -E 's/^[ ,]//; s/ [A-Z]+$/ V/' | sort -u
}

_neardup()
{
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
    local nd=${COMP_WORDS[0]} cmd=${COMP_WORDS[1]:-} words
    COMPREPLY=()
    # "--keep=lo" arrives as "--keep" "=" "lo" when '=' breaks words
    if [[ $cur == = ]]; then
        cur=""
    elif [[ $prev == = && $COMP_CWORD -ge 3 ]]; then
        prev=${COMP_WORDS[COMP_CWORD - 2]}
    elif [[ $cur == --*=* ]]; then
        prev=${cur%%=*}
        cur=${cur#*=}
    fi
    if [[ $COMP_CWORD -eq 1 ]]; then
        mapfile -t COMPREPLY < <(compgen -W "cluster dedup pairs index --help --version" -- "$cur")
        return
    fi
    if [[ $cmd == index && $COMP_CWORD -eq 2 ]]; then
        mapfile -t COMPREPLY < <(compgen -W "add query stats evict --help" -- "$cur")
        return
    fi
    case $prev in
    --cluster) words="attach components guarded" ;;
    --keep) words="first longest earliest source" ;;
    --format) words="jsonl tsv text" ;;
    --measure) words="jaccard containment" ;;
    --sketch) words="oph kperm cminhash" ;;
    --tmpdir | --index)
        compopt -o filenames 2>/dev/null
        mapfile -t COMPREPLY < <(compgen -d -- "$cur")
        return
        ;;
    -o | --output | --source-priority) ;;
    --*)
        # any other option that takes a value (a number, a field name):
        # nothing to offer
        if _neardup_options "$nd" "$cmd" | grep -qx -- "$prev V"; then
            return
        fi
        ;;
    esac
    if [[ -n ${words:-} ]]; then
        mapfile -t COMPREPLY < <(compgen -W "$words" -- "$cur")
        return
    fi
    if [[ $cur == -* ]]; then
        words=$(_neardup_options "$nd" "$cmd" | sed 's/ V$//' | sort -u)
        mapfile -t COMPREPLY < <(compgen -W "$words -o -q" -- "$cur")
        return
    fi
    compopt -o filenames 2>/dev/null
    mapfile -t COMPREPLY < <(compgen -f -- "$cur")
}

complete -F _neardup neardup
