"""The unit of work owns the transaction (docs/adr/0001, decision 4; ARCHITECTURE "One transaction
owner"): a use case never commits the unit of work it was given, and never flushes without saying
why on the line of the flush or the line before it.

A function that opens its own unit of work (`with db.unit_of_work(...) as uow`) is the transaction
owner of that one (an entry point such as `issue_certificate` or the token endpoint's use case), so
committing *that* name is allowed; committing a parameter, an attribute or anything else is not.
Why a flush needs a reason: SQLAlchemy flushes before every query anyway, so an explicit flush is
there for something specific — an id the next statement needs, a unique index checked now so its
IntegrityError becomes a domain answer, a version check — and the reader must see which.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

from kikan.platform import errors

ROOT = Path(__file__).resolve().parents[1]
KIKAN = ROOT / "kikan"

#: use-case modules beyond the `service` rooms: platform services, bulk entry, migration
USE_CASE_MODULES = (
    "platform/audit.py",
    "platform/auth.py",
    "platform/issuance.py",
    "platform/sequences.py",
    "platform/tenancy.py",
    "platform/throttle.py",
    "residents/bulk.py",
    "migration/importer.py",
    "migration/xref.py",
    "electoral_roll/overseas.py",
)


def service_modules() -> list[Path]:
    """Every `service*.py` and every module under a `service/` package, at any depth of a
    module, plus the other use-case modules."""
    found = {
        p
        for p in KIKAN.rglob("*.py")
        if p.name.startswith("service") or "service" in p.relative_to(KIKAN).parts[:-1]
    }
    found |= {KIKAN / m for m in USE_CASE_MODULES}
    return sorted(found)


@dataclass(frozen=True)
class Breach:
    path: str
    line: int
    what: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.what}"


REASON = re.compile(r"#\s*\S")


def _owned_units(fn: ast.AST) -> set[str]:
    """Names bound by `with <…>.unit_of_work(...) as name` inside the function."""
    owned: set[str] = set()
    for node in ast.walk(fn):
        if isinstance(node, ast.With):
            for item in node.items:
                call = item.context_expr
                if (
                    isinstance(call, ast.Call)
                    and isinstance(call.func, ast.Attribute)
                    and call.func.attr == "unit_of_work"
                    and isinstance(item.optional_vars, ast.Name)
                ):
                    owned.add(item.optional_vars.id)
    return owned


def _has_reason(lines: list[str], lineno: int) -> bool:
    """A comment on the flush's line, or on the line before it when that line is a comment of its
    own or the `try:` the flush is guarded by (a comment after other code says something else)."""
    same = lines[lineno - 1]
    if "#" in same and REASON.search(same[same.index("#") :]):
        return True
    before = (lines[lineno - 2] if lineno >= 2 else "").strip()
    return before.startswith(("#", "try:")) and bool(REASON.search(before[before.find("#") :]))


def breaches(source: str, path: str = "<source>") -> list[Breach]:
    """The commits of a unit of work the function did not open, and the flushes without a reason."""
    tree = ast.parse(source)
    lines = source.splitlines()
    found: list[Breach] = []
    functions = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    owned_at: dict[int, set[str]] = {}
    for fn in functions:  # inner functions see what their outer function opened
        owned = _owned_units(fn)
        for node in ast.walk(fn):
            owned_at.setdefault(id(node), set()).update(owned)
    for node in ast.walk(tree):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and not node.args
            and node.func.attr in ("commit", "flush")
        ):
            continue
        receiver = node.func.value
        if node.func.attr == "commit":
            name = receiver.id if isinstance(receiver, ast.Name) else None
            if name is None or name not in owned_at.get(id(node), set()):
                shown = ast.unparse(receiver)
                found.append(Breach(path, node.lineno, f"commits {shown}, which it did not open"))
        elif not _has_reason(lines, node.lineno):
            found.append(Breach(path, node.lineno, "flushes without a comment saying why"))
    return found


def test_no_service_commits_or_flushes_without_a_reason() -> None:
    modules = service_modules()
    assert KIKAN / "seal/service/registrations.py" in modules
    assert KIKAN / "residents/certificates/service.py" in modules
    assert KIKAN / "linkage/service.py" in modules
    found = [
        b
        for p in modules
        for b in breaches(p.read_text(encoding="utf-8"), str(p.relative_to(ROOT)))
    ]
    assert not found, "\n".join(map(str, found))


def test_the_check_catches_a_commit_of_the_callers_unit_of_work() -> None:
    source = (
        "def register(uow, ctx):\n"
        "    uow.session.add(row)\n"
        "    uow.commit()\n"
        "def also(self):\n"
        "    self.uow.commit()\n"
    )
    assert [(b.line, b.what) for b in breaches(source)] == [
        (3, "commits uow, which it did not open"),
        (5, "commits self.uow, which it did not open"),
    ]


def test_the_check_allows_the_owner_to_commit_and_a_reasoned_flush() -> None:
    source = (
        "def issue(db, tenant):\n"
        "    with db.unit_of_work(tenant) as uow:\n"
        "        uow.session.add(row)\n"
        "        # the row's id is printed on the form\n"
        "        uow.session.flush()\n"
        "        uow.session.flush()  # the unique index answers now, as a domain error\n"
        "        uow.commit()\n"
    )
    assert breaches(source) == []


def test_the_check_catches_a_flush_without_a_reason() -> None:
    source = "def add(uow):\n    x = 1\n    uow.session.flush()\n"
    assert [(b.line, b.what) for b in breaches(source)] == [
        (3, "flushes without a comment saying why")
    ]


def test_benchmarks_do_not_import_the_tests() -> None:
    """Benchmarks use Kikan's public API and their own data helpers, never test fixtures."""
    offenders = []
    for p in sorted((ROOT / "benchmarks").glob("*.py")):
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
            names = (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else []
            )
            offenders += [f"{p.name}: {n}" for n in names if n.split(".")[0] == "tests"]
    assert not offenders, offenders


# ---------------------------------------------------------------- services raise domain errors

#: Functions still answering with HTTP errors, and why. The linkage pull API's OAuth side
#: (token endpoint, bearer check) answers 401 as the protocol says; its 全件/差分/個別 reads still
#: raise the pull protocol's 403/400 directly (moving them to domain errors is open, issue 16).
HTTP_ERRORS_ALLOWED = {
    "linkage/service.py": frozenset(
        {"issue_token", "_issue", "_invalid_client", "authenticate", "changes", "full", "records"}
        | {"_require_scope"}
        | {"_client_secret"}
    ),
}
#: What those functions need imported.
HTTP_IMPORTS_ALLOWED = {
    "linkage/service.py": frozenset({"Unauthenticated", "Forbidden", "KikanError"})
}


def http_error_names() -> frozenset[str]:
    """Every problem class of the HTTP layer (`KikanError` and its subclasses)."""
    return frozenset(
        name
        for name, value in vars(errors).items()
        if isinstance(value, type) and issubclass(value, errors.KikanError)
    )


def http_error_breaches(
    source: str,
    path: str = "<source>",
    *,
    allowed_functions: frozenset[str] = frozenset(),
    allowed_imports: frozenset[str] = frozenset(),
) -> list[Breach]:
    """Imports of HTTP error classes and raises of them (`raise NotFound(...)`,
    `raise errors.Conflict(...)`), outside the allowed functions."""
    http = http_error_names()
    tree = ast.parse(source)
    found: list[Breach] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "kikan.platform.errors":
            for alias in node.names:
                if alias.name in http and alias.name not in allowed_imports:
                    found.append(Breach(path, node.lineno, f"imports {alias.name}"))

    def visit(node: ast.AST, allowed: bool) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            allowed = allowed or node.name in allowed_functions
        if isinstance(node, ast.Raise) and node.exc is not None and not allowed:
            target = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
            if name in http:
                found.append(Breach(path, node.lineno, f"raises {name}"))
        for child in ast.iter_child_nodes(node):
            visit(child, allowed)

    visit(tree, False)
    return found


def test_services_raise_domain_errors_never_http_errors() -> None:
    """ADR 0013: a use case raises `kikan.errors.DomainError` subclasses; the mapping to a
    problem lives in one place. Platform services (auth, throttling) are the HTTP layer's own."""
    modules = [p for p in service_modules() if "platform" not in p.relative_to(KIKAN).parts]
    assert KIKAN / "seal/service/registrations.py" in modules
    assert KIKAN / "residents/service/_common.py" in modules
    found = []
    for p in modules:
        rel = str(p.relative_to(KIKAN))
        found += http_error_breaches(
            p.read_text(encoding="utf-8"),
            str(p.relative_to(ROOT)),
            allowed_functions=HTTP_ERRORS_ALLOWED.get(rel, frozenset()),
            allowed_imports=HTTP_IMPORTS_ALLOWED.get(rel, frozenset()),
        )
    assert not found, "\n".join(map(str, found))


def test_the_http_error_check_catches_imports_and_raises() -> None:
    source = (
        "from kikan.platform.errors import NotFound, problem_response\n"
        "from kikan.platform import errors\n"
        "def find(uow, ctx, query):\n"
        "    raise NotFound('x')\n"
        "def other(uow, ctx, command):\n"
        "    raise errors.Conflict('y')\n"
        "def fine(uow, ctx, command):\n"
        "    raise NotFoundError('not-found', 'z')\n"
    )
    assert [(b.line, b.what) for b in http_error_breaches(source)] == [
        (1, "imports NotFound"),
        (4, "raises NotFound"),
        (6, "raises Conflict"),
    ]
    assert http_error_breaches(source, allowed_functions=frozenset({"find", "other"})) == [
        Breach("<source>", 1, "imports NotFound")
    ]


# ---------------------------------------------------------------- one use-case shape (ADR 0013)

#: The service modules whose use cases are `fn(uow, ctx, command)`, and where their command and
#: query objects are defined. None: the module has no use case of its own (it holds the steps its
#: siblings share), so every public function of it taking `uow` must be in NOT_USE_CASES.
SHAPED_MODULES: dict[str, str | None] = {
    "residents/service/_common.py": "residents/service/commands.py",
    "residents/service/changes.py": "residents/service/commands.py",
    "residents/service/entries.py": "residents/service/commands.py",
    "residents/service/households.py": "residents/service/commands.py",
    "residents/service/protection.py": "residents/service/commands.py",
    "residents/service/reads.py": "residents/service/commands.py",
    "residents/service/removals.py": "residents/service/commands.py",
    "residents/certificates/service.py": "residents/service/commands.py",
    "seal/service/certificates.py": "seal/service/commands.py",
    "seal/service/changes.py": "seal/service/commands.py",
    "seal/service/common.py": "seal/service/commands.py",
    "seal/service/registrations.py": "seal/service/commands.py",
    "seal/service/replica.py": "seal/service/commands.py",
    "linkage/service.py": "linkage/service.py",
    "electoral_roll/service.py": "electoral_roll/service.py",
    "electoral_roll/overseas.py": "electoral_roll/overseas.py",
    "juminzei/service/common.py": "juminzei/service/commands.py",
    "juminzei/service/records.py": "juminzei/service/commands.py",
    "juminzei/service/assessment.py": "juminzei/service/commands.py",
    "juminzei/service/notices.py": "juminzei/service/commands.py",
    # 宛名管理 and 附票 define each use case's command next to it, in the same file
    "atena/service/bulk.py": "atena/service/bulk.py",
    "atena/service/common.py": None,
    "atena/service/nayose.py": "atena/service/nayose.py",
    "atena/service/query.py": "atena/service/query.py",
    "atena/service/register.py": "atena/service/register.py",
    "atena/service/search.py": None,
    "atena/service/togo.py": "atena/service/togo.py",
    "fuhyo/service/copies.py": "fuhyo/service/copies.py",
    "fuhyo/service/export.py": "fuhyo/service/export.py",
    "fuhyo/service/notices.py": "fuhyo/service/notices.py",
    "fuhyo/service/records.py": "fuhyo/service/records.py",
}

#: Public functions taking `uow` first that are not use cases, and why. None of them is called by
#: the API or a screen as an operation of its own; each is a step inside use cases (or another
#: module's published read), so it keeps the plain parameters its callers pass.
NOT_USE_CASES = {
    "residents/service/_common.py": {
        # the write path's loads and checks, also read by linkage's feed and the certificates
        "latest": "the current snapshot and version of one person, unaudited",
        "household_members": "the members of a household, for the write path and the screens",
        "protected_among": "which 宛名番号 have a 支援措置 (linkage's feed filters them)",
        "is_protected": "whether one person has a 支援措置 on a day",
        "check_unique_numbers": "住民票コード/個人番号 uniqueness, a step of every write",
    },
    "residents/service/protection.py": {
        "support_measures": "the measures in force on a day, a step of reads and certificates",
        "issue_blockers": "the 抑止 that block a certificate, a step of issue_certificate",
        "inquiry_check": "the 照会抑止 gate every audited read passes first",
        "suppression_flags": "marks the rows of a result list; the list is the operation",
    },
    "seal/service/changes.py": {
        "open_reviews": "the open 確認事項 of one loaded registration, for the reads",
        "history": "the history rows of a loaded registration, for the reads",
    },
    "seal/service/common.py": {
        "person_row": "the replica's row of one person, a step of the use cases",
        "current_person": "the replica's current person, a step of the use cases",
        "is_protected": "whether the replica marks a person protected",
        "add_history": "appends to a registration's history",
        "audit_operation": "writes the use case's audit record",
        "guard_protected": "refuses a protected person, a step of the use cases",
    },
    "seal/service/registrations.py": {
        "by_number": "loads a registration, a step of the use cases",
        "by_card": "loads a registration by card, a step of the use cases",
    },
    # ADR 0013 "Not done yet": the replica is being rebuilt with the linkage-consumer kit
    "seal/service/replica.py": {
        "react": "the consumer kit's hook, called by the sync with the kit's arguments",
        "save_link": "stores the replica's connection (the kit's `connect` verb)",
        "link": "loads the replica connection settings",
        "apply_full": "applies a 全件 page (rebuilt with the consumer kit)",
        "apply_change": "applies one 差分 event (rebuilt with the consumer kit)",
        "audit_sync": "writes the sync's audit record",
    },
    "electoral_roll/service.py": {
        "district_table": "the 投票区 table in force, a step of the use cases and of react",
        "register_rows": "loads register entries by 宛名番号, a step of the roll and of react",
        "add_history": "appends one historied step to a register entry",
        "strike_entry": "the 抹消 step shared by the use cases and react",
    },
    "juminzei/service/common.py": {
        "log": "writes the use case's access-log record",
    },
    "juminzei/service/records.py": {
        "municipality": "the tenant's profile and 納期, a step of every 賦課",
        "on_kijitsu": "one person of the 賦課期日 list, a step of matching, 賦課 and notices",
        "income_of": "the income records in force for one taxpayer, the 賦課's sources",
    },
    "juminzei/service/assessment.py": {
        "assessment_view": "one assessment version with its 期割, for the views and the notices",
    },
    # the steps 宛名管理's use cases share; the residents feed (atena/linkage.py) uses them too
    "atena/service/common.py": {
        "log": "writes the use case's access-log record",
        "record_state": "appends a person's state, a step of 付番, 修正 and the residents feed",
        "current_states": "the current states of many persons, for a page of the residents feed",
        "jutogai_rows": "the 住登外者 rows of many persons, for a page of the residents feed",
        "current_state": "one person's current state, a step of 名寄せ and the reads",
        "state_as_of": "the state in force on a day, a step of 宛名照会",
        "source_of": "whether a 宛名番号 names a 住登外者 or a resident now, a step of the reads",
        "jutogai_row": "loads one 住登外者, a step of the use cases",
        "resident_row": "loads one delivered resident, a step of the use cases",
        "protected_numbers": "which 宛名番号 have a 支援措置; marks the rows of a result",
        "identity": "loads (or creates) the 名寄せ/統合宛名 state of a 宛名番号",
        "blind_index": "the blind index of a 個人番号, a step of 付番 and 検索",
        "store_my_number": "keeps a 個人番号 encrypted, a step of 付番 and the residents feed",
        "my_number_index": "one person's 個人番号 blind index, a step of 付番 and 修正",
        "my_number_indexes": "the blind indexes of many persons, for search and the feed",
        "numbers_with_index": "the 宛名番号 sharing one 個人番号, a step of the candidate search",
        "ensure_togo": "issues or reuses the 団体内統合宛名番号, a step of 付番 and the feed",
    },
    "atena/service/nayose.py": {
        "offer_pairs": "puts one person's pairs on the worklist, after 付番, 修正 and the feed",
    },
    "atena/service/search.py": {
        "find": "the candidate search, a step of 付番, 修正, 検索 and the residents feed",
        "find_many": "the candidate search for a page of the residents feed",
        "group_of": "the 宛名番号 linked by 名寄せ with one, a step of 名寄せ",
    },
    # the steps 附票's use cases share; the residents feed (fuhyo/linkage.py) uses them too
    "fuhyo/service/records.py": {
        "log": "writes the use case's access-log record",
        "own_places": "the 本籍 this tenant keeps 附票 for, a step of 作成 and the feed",
        "record_row": "loads one 附票, a step of the use cases and the feed",
        "open_record": "the current 附票 of a 戸籍, a step of 作成, 通知 matching and the feed",
        "current_entries": "the latest version of every entry, a step of the views, 写し, 通知",
        "current_entry": "the latest version of one entry, a step of the writes",
        "entries_of_person": "one person's current entries, a step of 通知 matching and the feed",
        "new_record": "creates a 附票 with its first event, a step of 作成, 改製 and the feed",
        "write_entry": "writes one version of an entry, the step every change goes through",
    },
    # ADR 0013 "Not done yet": the pull API answers as the OAuth/pull protocol says
    "linkage/service.py": {
        "changes": "差分 of the pull API, authenticated by the caller's token",
        "full": "全件 of the pull API, authenticated by the caller's token",
        "records": "個別取得 of the pull API, authenticated by the caller's token",
    },
}


#: The modules whose every file under `service/` must be in SHAPED_MODULES.
SHAPED_PACKAGES = frozenset({"residents", "seal", "atena", "fuhyo", "juminzei"})


def frozen_dataclasses(source: str) -> frozenset[str]:
    """The classes of a module decorated `@dataclass(frozen=True, …)`."""
    found = set()
    for node in ast.parse(source).body:
        if not isinstance(node, ast.ClassDef):
            continue
        for deco in node.decorator_list:
            if (
                isinstance(deco, ast.Call)
                and getattr(deco.func, "id", getattr(deco.func, "attr", "")) == "dataclass"
                and any(
                    k.arg == "frozen" and isinstance(k.value, ast.Constant) and k.value.value
                    for k in deco.keywords
                )
            ):
                found.add(node.name)
    return frozenset(found)


def shape_breaches(
    source: str,
    path: str = "<source>",
    *,
    commands: frozenset[str],
    allowed: frozenset[str] = frozenset(),
) -> list[Breach]:
    """Public module-level functions taking `uow` first whose parameters are not exactly
    `(uow, ctx, command)` or `(uow, ctx, query)` with the last annotated as one of `commands`."""
    found: list[Breach] = []
    for node in ast.parse(source).body:
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        a = node.args
        names = [p.arg for p in a.posonlyargs + a.args]
        if node.name.startswith("_") or not names or names[0] != "uow" or node.name in allowed:
            continue
        last = a.args[-1].annotation if len(names) == 3 else None
        kind = last.attr if isinstance(last, ast.Attribute) else getattr(last, "id", "")
        if (
            names[1:2] != ["ctx"]
            or len(names) != 3
            or names[2] not in ("command", "query")
            or a.kwonlyargs
            or a.vararg
            or a.kwarg
            or a.defaults
            or kind not in commands
        ):
            shown = ", ".join(
                names + (["*"] if a.kwonlyargs else []) + [k.arg for k in a.kwonlyargs]
            )
            found.append(Breach(path, node.lineno, f"{node.name}({shown}) is not fn(uow, ctx, c)"))
    return found


def test_use_cases_take_uow_ctx_and_one_command() -> None:
    """ADR 0013: every use case of residents, seal, linkage's administration, 選挙人名簿,
    個人住民税, 宛名管理 and 附票 is `fn(uow, ctx, command)`, the command (or query) a frozen
    dataclass of the module's own."""
    found: list[Breach] = []
    for rel, commands_rel in SHAPED_MODULES.items():
        path = KIKAN / rel
        commands = frozenset[str]()
        if commands_rel is not None:
            commands = frozen_dataclasses((KIKAN / commands_rel).read_text(encoding="utf-8"))
            assert commands, commands_rel
        found += shape_breaches(
            path.read_text(encoding="utf-8"),
            str(path.relative_to(ROOT)),
            commands=commands,
            allowed=frozenset(NOT_USE_CASES.get(rel, {})),
        )
    assert not found, "\n".join(map(str, found))
    covered = {
        str(p.relative_to(KIKAN))
        for p in service_modules()
        if p.parent.name == "service"
        and p.parent.parent.name in SHAPED_PACKAGES
        and p.name not in ("__init__.py", "commands.py")
    }
    assert {rel.split("/")[0] for rel in covered} == SHAPED_PACKAGES  # each one was found
    assert covered <= set(SHAPED_MODULES), (
        "a new service module is not checked for the use-case shape",
        covered - set(SHAPED_MODULES),
    )


def test_the_allow_list_names_existing_functions() -> None:
    """A helper renamed or removed must leave the allow-list too, or it would excuse a new one."""
    for rel, names in NOT_USE_CASES.items():
        defined = {
            n.name
            for n in ast.parse((KIKAN / rel).read_text(encoding="utf-8")).body
            if isinstance(n, ast.FunctionDef)
        }
        assert set(names) <= defined, (rel, set(names) - defined)


def test_the_shape_check_catches_keyword_arguments_and_plain_values() -> None:
    source = (
        "def move(uow, ctx, *, household_number, move_date=None):\n    pass\n"
        "def read(uow, ctx, atena_number: str):\n    pass\n"
        "def good(uow: UnitOfWork, ctx: Context, command: Move):\n    pass\n"
        "def also(uow, ctx, query: commands.Ref):\n    pass\n"
        "def helper(uow, atena):\n    pass\n"
        "def _private(uow, x, y):\n    pass\n"
    )
    commands = frozenset({"Move", "Ref"})
    assert [(b.line, b.what) for b in shape_breaches(source, commands=commands)] == [
        (1, "move(uow, ctx, *, household_number, move_date) is not fn(uow, ctx, c)"),
        (3, "read(uow, ctx, atena_number) is not fn(uow, ctx, c)"),
        (9, "helper(uow, atena) is not fn(uow, ctx, c)"),
    ]
    allowed = frozenset({"move", "read", "helper"})
    assert shape_breaches(source, commands=commands, allowed=allowed) == []
    assert frozen_dataclasses(
        "@dataclass(frozen=True, slots=True)\nclass A:\n    x: int\n"
        "@dataclass\nclass B:\n    x: int\n"
    ) == frozenset({"A"})
