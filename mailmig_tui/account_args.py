"""Accounts from parsed command-line arguments: URLs, saved names, --ROLE-command and the
connection and OAuth2 options laid over them.

Shared by every front end that starts from arguments: the headless commands, and the TUI
(`mailmig tui SOURCE TARGET`, `mailmig batch --tui`), so each resolves an account the same way.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from mailmig_tui import accounts, oauth2
from mailmig_tui.config import Config, load_config
from mailmig_tui.errors import UsageError
from mailmig_tui.kinds import kind_of
from mailmig_tui.model import AccountSpec, Security
from mailmig_tui.password_command import with_password_command

if TYPE_CHECKING:
    from mailmig_tui.engine.batch import BatchJob

ACCOUNT_ARGUMENTS = {"account": "source", "source": "source", "target": "target"}
"""Positional argument (dest) -> the role of the account it names."""


def account_positionals(parser: argparse.ArgumentParser) -> dict[str, str]:
    """The subcommand's account arguments (dest -> role), made optional.

    A --source-command / --target-command takes an account argument's place, so they are
    optional here; cli.py could declare them with nargs="?" itself.
    """
    found = {}
    for action in parser._actions:
        if not action.option_strings and action.dest in ACCOUNT_ARGUMENTS:
            action.nargs, action.required = "?", False
            found[action.dest] = ACCOUNT_ARGUMENTS[action.dest]
    return found


def account_arguments(args: argparse.Namespace) -> dict[str, str | None]:
    """The account argument for each role ("source", "target") not given by a command.

    Arguments fill the roles in order, so `copy --source-command CMD TARGET` works although
    argparse put TARGET into `args.source`.
    """
    given = [text for dest in ACCOUNT_ARGUMENTS if (text := getattr(args, dest, None)) is not None]
    roles = ("source", "target") if hasattr(args, "target") else ("source",)
    texts: dict[str, str | None] = {}
    for role in roles:
        if getattr(args, f"{role}_command", None) is None:
            texts[role] = given.pop(0) if given else None
    if given:
        raise UsageError(
            f"one account argument too many: {given[0]!r}",
            "--source-command takes the place of the SOURCE (or ACCOUNT) argument, "
            "--target-command that of TARGET",
        )
    return texts


def resolve_role(args: argparse.Namespace, role: str, config: Config) -> AccountSpec:
    """The account acting as `role`: its --ROLE-command, or its argument."""
    text = account_arguments(args).get(role)  # first: refuses an argument too many
    command = getattr(args, f"{role}_command", None)
    if command is not None:
        return _with_options(accounts.command_account(command), args, config, role)
    if text is None:
        if args.command == "ls":  # `ls ACCOUNT` without FOLDER: argparse took it as FOLDER
            raise UsageError("ls needs ACCOUNT and FOLDER", "or --source-command COMMAND FOLDER")
        name = "ACCOUNT" if hasattr(args, "account") else role.upper()
        raise UsageError(f"no {role} account given", f"give {name} or --{role}-command COMMAND")
    return _with_options(_lookup(text, config), args, config, role)


def resolve_account(
    text: str | None, args: argparse.Namespace, config: Config, role: str | None = None
) -> AccountSpec:
    """A URL or a saved account name, combined with the command-line options.

    Knows no roles, so it refuses to guess when a --source-command or --target-command is
    given: use `resolve_role` there. With `role`, that side's --ROLE-oauth2 options apply.
    """
    if any(getattr(args, f"{role}_command", None) for role in ("source", "target")):
        raise UsageError(
            "--source-command / --target-command do not work with this command yet",
            "save the account with a `command` field in config.toml and use its name",
        )
    if text is None:
        raise UsageError("an account argument is missing", "give SOURCE and TARGET")
    return _with_options(_lookup(text, config), args, config, role)


def _lookup(text: str, config: Config) -> AccountSpec:
    if "://" in text:
        return accounts.parse_account_url(text)
    if text in config.accounts:
        return config.accounts[text]
    known = ", ".join(sorted(config.accounts)) or "none saved yet"
    raise UsageError(
        f"unknown saved account {text!r}",
        f"use an account URL such as imaps://user@host, or one of: {known}",
    )


def _with_options(
    spec: AccountSpec, args: argparse.Namespace, config: Config, role: str | None = None
) -> AccountSpec:
    spec = _with_oauth2(spec, args, config, role)
    login_as = getattr(args, f"{role}_login_as", None) if role else None
    kind = kind_of(spec)
    password_command = getattr(args, f"{role}_password_command", None) if role else None
    if password_command is not None:  # wins over the saved account's password_command
        if kind.local:
            raise UsageError(f"--{role}-password-command: {kind.role_label} has no password")
        spec = with_password_command(spec, password_command)
    if login_as:
        if not kind.login_as:
            raise UsageError(f"--{role}-login-as needs an IMAP account")
        spec = replace(spec, login_as=login_as)
    if args.insecure and kind.uses_tls and spec.security is not Security.PLAIN:
        print(
            f"mailmig: warning: TLS certificates of {spec.display} are NOT verified (--insecure)",
            file=sys.stderr,
        )
    return accounts.apply_options(
        spec,
        ca_file=args.ca_file,
        insecure=args.insecure,
        allow_plaintext=args.allow_plaintext,
        timeout=args.timeout if args.timeout is not None else config.timeout,
    )


def _with_oauth2(
    spec: AccountSpec, args: argparse.Namespace, config: Config, role: str | None
) -> AccountSpec:
    """Lay the OAuth2 options over the account acting as `role`.

    --oauth2-token-command serves every account signing in with OAuth2 (by --ROLE-oauth2 or
    its saved `oauth2` field) that has no --ROLE-oauth2-token-command; with one account
    (folders, ls) it alone turns OAuth2 on. Client id, tenant, client secret command and key
    file apply to every OAuth2 account. [settings] token_store is the default of each.
    """
    option = {name: getattr(args, name, None) for name in _OAUTH2_SHARED}
    provider = getattr(args, f"{role}_oauth2", None) if role else None
    own_command = getattr(args, f"{role}_oauth2_token_command", None) if role else None
    # folders and ls: no target, and no --target-oauth2 (which batch has, without TARGET).
    one_account = role == "source" and not hasattr(args, "target_oauth2")
    shared_command = option["oauth2_token_command"]
    if shared_command and not (one_account or provider or spec.oauth2 is not None):
        shared_command = None
    saved_store = spec.oauth2.token_store if spec.oauth2 is not None else ""
    spec = oauth2.with_options(
        spec,
        provider=provider,
        client_id=option["oauth2_client_id"],
        tenant=option["oauth2_tenant"],
        token_command=own_command or shared_command,
        client_secret_command=option["oauth2_client_secret_command"],
        key_file=option["oauth2_key_file"],
        token_store=saved_store or config.token_store,
        tables=config.oauth2,
    )
    if one_account and spec.oauth2 is None and any(option.values()):
        given = next(name for name, value in option.items() if value).replace("_", "-")
        raise UsageError(
            f"--{given} needs an account signing in with OAuth2",
            "add --source-oauth2 PROVIDER, or save the account with an oauth2 field",
        )
    return spec


_OAUTH2_SHARED = (
    "oauth2_client_id",
    "oauth2_tenant",
    "oauth2_token_command",
    "oauth2_client_secret_command",
    "oauth2_key_file",
)


def batch_job(args: argparse.Namespace) -> BatchJob:
    """`mailmig batch USERS.csv …` as a job: users read, passwords file read, report path
    checked, all before any connection."""
    # The engine only here: every command resolves accounts, and `mailmig ls` on a big
    # folder should not wait for the copy engine's imports.
    from mailmig_tui.engine.batch import BatchJob, read_batch, read_passwords_file
    from mailmig_tui.engine.folder_copier import CopySettings
    from mailmig_tui.engine.plan import CopyOptions, filter_options
    from mailmig_tui.engine.report_file import check_report_path

    if args.parallel < 1 or (args.connections is not None and args.connections < 1):
        raise UsageError("--parallel and --connections must be 1 or more")
    if args.report:
        check_report_path(args.report)
    wanted = filter_options(args)
    users = read_batch(
        Path(args.csv),
        passwords_in_csv=args.passwords_in_csv,
        source_host=args.source_host,
        target_host=args.target_host,
        source_password_command=args.source_password_command or "",
        target_password_command=args.target_password_command or "",
    )
    passwords = read_passwords_file(Path(args.passwords_file)) if args.passwords_file else {}
    config = load_config()
    sources, targets = {u.source for u in users}, {u.target for u in users}

    def resolve(text: str) -> AccountSpec:
        # The engine resolves each row's accounts by text alone: the column it came from
        # says which --source-oauth2 / --target-oauth2 options apply.
        role = "source" if text in sources else None
        role = "target" if text in targets and text not in sources else role
        return resolve_account(text, args, config, role)

    return BatchJob(
        users,
        resolve,
        passwords,
        parallel=args.parallel,
        # None: per user, the saved accounts' or [settings] `connections`, else the presets.
        settings=CopySettings(connections=args.connections or config.connections),
        report=args.report,
        options=CopyOptions(
            since=wanted.since, before=wanted.before, skip_larger_than=wanted.skip_larger_than
        ),
    )
