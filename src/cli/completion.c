/* completion.c — `agyn completion bash|zsh|fish`: shell completion scripts for the commands,
 * resources (and their aliases), verbs and global flags, generated from the CLI's own tables
 * so that they cannot miss a verb. zsh uses the bash script through bashcompinit. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/config_file.h"

static const char COMMANDS[] = "login context completion version help";
static const char GLOBAL_FLAGS[] = "--api-url --token --org --output --help --version";

static void print_verbs(const struct resource *r) {
    for (const struct verb *v = r->verbs; v->name; v++)
        printf("%s%s", v == r->verbs ? "" : " ", v->name);
}

static void bash_script(const struct resource *resources, bool for_zsh) {
    if (for_zsh)
        printf("autoload -U +X bashcompinit && bashcompinit\n");
    printf("_agyn() {\n"
           "  local cur=${COMP_WORDS[COMP_CWORD]} res= pos=0 i words\n"
           "  for ((i = 1; i < COMP_CWORD; i++)); do\n"
           "    case ${COMP_WORDS[i]} in\n"
           "      --api-url|--token|--org|--output|-o) ((i++)) ;;\n"
           "      -*) ;;\n"
           "      *) res=${COMP_WORDS[i]}; pos=$i; break ;;\n"
           "    esac\n"
           "  done\n"
           "  if [[ $cur == -* ]]; then words=\"%s\"\n"
           "  elif [[ -z $res ]]; then words=\"%s",
           GLOBAL_FLAGS, COMMANDS);
    for (const struct resource *r = resources; r->name; r++)
        printf(" %s%s%s", r->name, r->alias ? " " : "", r->alias ? r->alias : "");
    printf("\"\n  elif ((COMP_CWORD == pos + 1)); then\n    case $res in\n");
    for (const struct resource *r = resources; r->name; r++) {
        printf("      %s%s%s) words=\"", r->name, r->alias ? "|" : "", r->alias ? r->alias : "");
        print_verbs(r);
        printf(" ls rm\" ;;\n");
    }
    printf("      context) words=\"list current use delete\" ;;\n"
           "      completion) words=\"bash zsh fish\" ;;\n"
           "    esac\n"
           "  fi\n"
           "  COMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n"
           "}\n"
           "complete -F _agyn agyn\n");
}

static void fish_script(const struct resource *resources) {
    printf("complete -c agyn -f\n"
           "complete -c agyn -l api-url -r -d 'API address'\n"
           "complete -c agyn -l token -r -d 'API token (prefer AGYN_TOKEN)'\n"
           "complete -c agyn -l org -r -d 'organization id or name'\n"
           "complete -c agyn -s o -l output -r -a 'table json yaml name' -d 'output format'\n"
           "complete -c agyn -l version -d 'print the version'\n"
           "complete -c agyn -n __fish_use_subcommand -a '%s'\n",
           COMMANDS);
    for (const struct resource *r = resources; r->name; r++) {
        printf("complete -c agyn -n __fish_use_subcommand -a '%s%s%s' -d '%s'\n", r->name,
               r->alias ? " " : "", r->alias ? r->alias : "", r->summary);
        printf("complete -c agyn -n '__fish_seen_subcommand_from %s%s%s' -a '", r->name,
               r->alias ? " " : "", r->alias ? r->alias : "");
        print_verbs(r);
        printf("'\n");
    }
    printf("complete -c agyn -n '__fish_seen_subcommand_from context' -a 'list current use "
           "delete'\n"
           "complete -c agyn -n '__fish_seen_subcommand_from completion' -a 'bash zsh fish'\n");
}

int completion_command(const struct resource *resources, int argc, char **argv) {
    const char *shell = argc == 1 ? argv[0] : "";
    if (strcmp(shell, "bash") == 0 || strcmp(shell, "zsh") == 0)
        bash_script(resources, strcmp(shell, "zsh") == 0);
    else if (strcmp(shell, "fish") == 0)
        fish_script(resources);
    else if (strcmp(shell, "--help") == 0 || strcmp(shell, "-h") == 0)
        printf("Usage: agyn completion bash|zsh|fish\n\n"
               "Prints a completion script: source <(agyn completion bash) in ~/.bashrc,\n"
               "source <(agyn completion zsh) in ~/.zshrc, or\n"
               "agyn completion fish > ~/.config/fish/completions/agyn.fish\n");
    else
        return usage_error("completion", "expected bash, zsh or fish");
    return CLI_OK;
}
