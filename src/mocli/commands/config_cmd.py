"""`mocli config show | check | path`."""

from __future__ import annotations

import typer

from mocli.commands.options import JsonOut

app = typer.Typer(help="Show, check and locate mocli's configuration.", no_args_is_help=True)


@app.command("path")
def path(json_out: JsonOut("Print the paths as JSON.") = False) -> None:
    """Where config files and cases live.

    Example: mocli config path
    """
    from mocli.config import CONFIG_FILES, data_dir, shipped_config_dir, user_config_dir
    from mocli.render import print_json

    info = {
        "shipped_defaults": str(shipped_config_dir()),
        "user_config": str(user_config_dir()),
        "user_files": [str(user_config_dir() / n) for n in (*CONFIG_FILES, "claims.toml")],
        "data": str(data_dir()),
        "cases": str(data_dir() / "cases.db"),
    }
    if json_out:
        print_json(info)
        return
    for key, value in info.items():
        if isinstance(value, list):
            value = ", ".join(value)
        typer.echo(f"{key:17} {value}")


@app.command("check")
def check() -> None:
    """Validate every config file, the demo data and the configured providers (their settings and
    that the environment variables holding their secrets are set; nothing is sent anywhere). Names the
    file and key of the first error, and lists the outcomes each locale has no text for yet.

    Example: mocli config check
    """
    from mocli.claim_rules import load_claim_rules
    from mocli.commands.env import current_env
    from mocli.providers.registry import ROLES, Providers, known

    env = current_env()
    cfg, now = env.load()
    claims = load_claim_rules()
    providers = Providers(cfg, now.date())
    _ = providers.demo.demo.data  # validates the demo data file too
    providers.customers()
    providers.orders()
    for carrier in cfg.settings.providers.tracking:
        providers.tracking(None if carrier == "default" else carrier)
    files = sum(len(v) for v in cfg.files.values()) + len(claims.files)
    p = cfg.settings.providers
    used = sorted({p.customers, p.orders, *p.tracking.values()})
    from mocli.messages import missing_variants

    languages = ", ".join([f"{cfg.messages.default_locale} (default)", *sorted(cfg.messages.locales)])
    typer.echo(f"config OK: {files} file(s), {len(cfg.tiers)} tiers, "
               f"{len(cfg.messages.outcomes) + len(cfg.messages.resolutions)} message templates, "
               f"{len(cfg.known_issues)} known issues, {len(claims.rules)} carrier claim rules; "
               f"providers: {', '.join(used)}; locales: {languages}", err=True)
    typer.echo("providers mocli knows: " + "; ".join(f"{role}: {', '.join(known(role))}" for role in ROLES), err=True)
    # Not an error: a missing variant is sent in the default language with a note to the agent.
    for tag, keys in missing_variants(cfg).items():
        typer.echo(f"missing variants, sent in {cfg.messages.default_locale} until written: {tag}: "
                   f"{', '.join(keys)}", err=True)


@app.command("show")
def show(json_out: JsonOut("Print the merged config as JSON.") = False) -> None:
    """Print the merged configuration (shipped defaults + your files + MOCLI_* variables).

    Example: mocli config show --json
    """
    from dataclasses import asdict

    from mocli.claim_rules import load_claim_rules
    from mocli.commands.env import current_env
    from mocli.render import print_json

    env = current_env()
    cfg, _ = env.load()
    claims = load_claim_rules()
    merged = {
        "settings": cfg.settings.model_dump(mode="json"),
        "tiers": {k: v.model_dump(mode="json") for k, v in cfg.tiers.items()},
        "policy": cfg.policy.model_dump(mode="json"),
        "messages": cfg.messages.model_dump(mode="json"),
        "known_issues": [k.model_dump(mode="json") for k in cfg.known_issues],
        "claims": {"expiring_within_days": claims.expiring_within_days,
                   "rules": [{**asdict(r), "checked": r.checked.isoformat()} for r in claims.rules]},
        "files": {**{k: [str(p) for p in v] for k, v in cfg.files.items()},
                  "claims.toml": [str(p) for p in claims.files]},
    }
    if json_out:
        print_json(merged)
        return

    con = env.console()
    for section, data in merged.items():
        con.rule(section)
        con.print_json(data=data)
