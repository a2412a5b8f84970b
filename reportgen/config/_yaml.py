"""YAML loading that remembers where every value came from.

Pydantic reports errors by location (``("metrics", "aht", "format")``);
users need a file and a line. We compose the YAML node tree once, record the
line of every mapping key and sequence item, and translate validation errors
back to ``file:line`` with a near-miss suggestion for unknown keys.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError

from reportgen.errors import ConfigError

Loc = tuple[str | int, ...]
M = TypeVar("M", bound=BaseModel)


class LocatedYaml:
    """Parsed YAML data plus a map from value location to 1-based line number."""

    def __init__(self, path: Path, data: Any, lines: dict[Loc, int]) -> None:
        self.path = path
        self.data = data
        self.lines = lines

    def line_of(self, loc: Iterable[str | int]) -> int | None:
        """Line of the deepest known prefix of ``loc``."""
        loc = tuple(loc)
        while loc:
            if loc in self.lines:
                return self.lines[loc]
            loc = loc[:-1]
        return self.lines.get((), None)


def load_yaml(path: Path) -> LocatedYaml:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            "config file not found",
            file=path,
            fix="check the path, or run `reportgen validate` from the project folder",
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"cannot read config file ({exc})", file=path, fix="save it as UTF-8 text"
        ) from None
    _check_characters(path, text)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = exc.problem or "invalid YAML"
        start = exc.context_mark
        if exc.context and start is not None and mark is not None and start.line != mark.line:
            problem += f" ({exc.context} that starts on line {start.line + 1})"
        raise ConfigError(
            f"YAML syntax error: {problem}",
            file=path,
            line=line,
            fix="check indentation and quoting near that line (values containing ':' or '#' need quotes)",
        ) from None
    lines: dict[Loc, int] = {}
    if node is not None:
        lines[()] = node.start_mark.line + 1
        _record_lines(node, (), lines)
    located = LocatedYaml(path, data if data is not None else {}, lines)
    _check_surrogates(located, located.data, ())
    return located


# characters YAML refuses in a file (PyYAML raises an unlocated ReaderError for them)
_NON_PRINTABLE = re.compile(
    "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)
_SURROGATE = re.compile("[\ud800-\udfff]")


def _check_characters(path: Path, text: str) -> None:
    found = _NON_PRINTABLE.search(text)
    if found:
        raise ConfigError(
            f"the file holds the character U+{ord(found.group()):04X}, which YAML does not allow",
            file=path,
            line=text.count("\n", 0, found.start()) + 1,
            fix="delete it (write \\t or \\uXXXX inside double quotes for special characters)",
        )


def _check_surrogates(source: LocatedYaml, node: Any, loc: Loc) -> None:
    """A lone surrogate (``"\\ud800"``) is not text any output file can hold: say where it is."""
    items = (
        node.items()
        if isinstance(node, dict)
        else enumerate(node)
        if isinstance(node, list)
        else ()
    )
    for key, value in items:
        if isinstance(value, dict | list):
            _check_surrogates(source, value, (*loc, key))
        elif any(isinstance(t, str) and _SURROGATE.search(t) for t in (key, value)):
            raise ConfigError(
                "the value holds a lone surrogate escape (\\ud800–\\udfff), which is not text",
                file=source.path,
                line=source.line_of((*loc, key)),
                key=".".join(str(p) for p in (*loc, key)),
                fix="write the character itself, or its \\U0001XXXX escape for characters beyond U+FFFF",
            )


def _record_lines(node: yaml.Node, loc: Loc, lines: dict[Loc, int]) -> None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            lines[(*loc, key)] = key_node.start_mark.line + 1
            _record_lines(value_node, (*loc, key), lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines[(*loc, index)] = item.start_mark.line + 1
            _record_lines(item, (*loc, index), lines)


def validate_model(model: type[M], source: LocatedYaml, context: dict[str, Any] | None = None) -> M:
    """Validate ``source.data`` as ``model``; the first error becomes a :class:`ConfigError`."""
    try:
        return model.model_validate(source.data, context=context)
    except ValidationError as exc:
        # a misspelled key shows up twice (unknown + missing): report the misspelling
        errors = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")
        raise _config_error(model, source, errors[0]) from None


def _config_error(model: type[BaseModel], source: LocatedYaml, error: Any) -> ConfigError:
    loc = tuple(
        part
        for part in error["loc"]
        if not (isinstance(part, str) and part.startswith("function-"))
    )
    tagged, loc = loc, _in_data(loc, source.data)  # without union tags such as 'derived'
    key = ".".join(str(p) for p in loc) or None
    line = source.line_of(loc)
    kind = error["type"]
    if kind == "extra_forbidden":
        allowed = _allowed_keys(model, tagged[:-1], source.data)
        name = str(loc[-1])
        close = difflib.get_close_matches(name, allowed, n=1)
        hint = (
            f"did you mean '{close[0]}'?"
            if close
            else f"allowed keys: {', '.join(sorted(allowed))}"
        )
        if comma := _flow_comma(source, loc, name):
            return comma
        return ConfigError(
            f"unknown key '{name}' — {hint}",
            file=source.path,
            line=line,
            key=key,
            fix=f"rename or remove '{name}'",
        )
    if kind == "missing":
        return ConfigError(
            f"required key '{loc[-1]}' is missing",
            file=source.path,
            line=line,
            key=key,
            fix=f"add '{loc[-1]}:' here",
        )
    message = error["msg"]
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    found = error.get("input")
    shown = isinstance(found, dict | list) or found is None or f"'{found}'" in message
    found_text = "" if shown else f" (found {found!r})"
    # a validator's own exception may carry the fix (e.g. a formula error)
    fix = getattr((error.get("ctx") or {}).get("error"), "fix", None)
    return ConfigError(
        f"{message}{found_text}",
        file=source.path,
        line=line,
        key=key,
        fix=fix or _TYPE_FIXES.get(kind, "see `reportgen schema` for what this key accepts"),
    )


#: pydantic error type → what to write instead
_TYPE_FIXES = {
    "int_parsing": "write a whole number (no quotes, no unit)",
    "int_type": "write a whole number (no quotes, no unit)",
    "int_from_float": "write a whole number (no decimals)",
    "float_parsing": "write a number (no quotes, no unit)",
    "float_type": "write a number (no quotes, no unit)",
    "bool_parsing": "write true or false",
    "bool_type": "write true or false",
    "string_type": "write text here (quote it if it looks like a number or a list)",
    "list_type": "write a list, e.g. [a, b] or one '- item' per line",
    "dict_type": "write a mapping of keys here (key: value, indented below this key)",
    "model_type": "write a mapping of keys here (key: value, indented below this key)",
    "model_attributes_type": "write a mapping of keys here (key: value, indented below this key)",
    "literal_error": "use one of the values listed",
    "union_tag_invalid": "use one of the listed types",
    "union_tag_not_found": "add 'type:' with one of the allowed types",
    "greater_than": "use a larger value",
    "greater_than_equal": "use a larger value",
    "less_than": "use a smaller value",
    "less_than_equal": "use a smaller value",
    "too_short": "add more items",
    "too_long": "remove items",
}


def _in_data(loc: Loc, data: Any) -> Loc:
    """``loc`` without the parts pydantic adds for a tagged union (``metrics.x.derived.format``)."""
    kept: list[str | int] = []
    for index, part in enumerate(loc):
        last = index == len(loc) - 1
        in_dict = isinstance(data, dict) and part in data
        in_list = isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data)
        if in_dict or in_list:
            data = data[part]
        elif not last:
            continue  # a union tag: not a key of the YAML
        kept.append(part)
    return tuple(kept)


def _flow_comma(source: LocatedYaml, loc: tuple, name: str) -> ConfigError | None:
    """An unknown key with no value inside ``{…}`` is the tail of a value cut at a comma.

    ``{description: Tickets resolved, by close time}`` is read as two keys, the
    second ``by close time`` with no value; the fix is quoting the value.
    """
    parent: Any = source.data
    for part in loc[:-1]:
        try:
            parent = parent[part]
        except (KeyError, IndexError, TypeError):
            return None
    if not isinstance(parent, dict) or parent.get(name, "") is not None:
        return None
    line = source.line_of(loc) or 1
    first = source.line_of(loc[:-1]) or line  # a flow mapping may span lines
    try:
        text = "\n".join(source.path.read_text(encoding="utf-8").splitlines()[first - 1 : line])
    except OSError:
        return None
    if "{" not in text:
        return None
    keys = list(parent)
    before = keys[keys.index(name) - 1] if keys.index(name) > 0 else None
    value = f"{parent[before]}, {name}" if before is not None else name
    return ConfigError(
        f"'{name}' was read as a key: inside {{…}} an unquoted comma ends a value"
        + (f", so '{before}' got only {parent[before]!r}" if before is not None else ""),
        file=source.path,
        line=line,
        key=".".join(map(str, loc[:-1])),
        fix=f'quote the value: {before or "key"}: "{value}"',
    )


def _allowed_keys(model: type[BaseModel], loc: Loc, data: Any) -> list[str]:
    """Field names of the model that holds the value at ``loc`` (union tags pick the member)."""
    current: Any = model
    for part in loc:
        current = _strip(current)
        members = _union_models(current)
        if members is not None:
            tagged = [m for m in members if str(part) in _tags(m)]
            if tagged:
                current = tagged[0]  # the discriminator value pydantic put in the location
                continue
            current = members[0] if len(members) == 1 else None
        if _is_model(current):
            field = current.model_fields.get(str(part))
            current = field.annotation if field else None
        elif get_origin(current) is dict:
            current = get_args(current)[1]
        elif get_origin(current) in (list, tuple):
            current = get_args(current)[0]
        else:
            return []
    current = _strip(current)
    members = _union_models(current)
    if members is not None:
        return sorted({name for m in members for name in m.model_fields})
    return list(current.model_fields) if _is_model(current) else []


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _strip(tp: Any) -> Any:
    """Remove ``Annotated[...]`` and ``Optional`` wrappers."""
    while True:
        if get_origin(tp) is Annotated:
            tp = get_args(tp)[0]
        elif get_origin(tp) in (Union, UnionType):
            args = [a for a in get_args(tp) if a is not type(None)]
            if len(args) != 1:
                return tp
            tp = args[0]
        else:
            return tp


def _union_models(tp: Any) -> list[type[BaseModel]] | None:
    """The model members of a union, or None when ``tp`` is not a union."""
    if get_origin(tp) not in (Union, UnionType):
        return None
    return [a for a in get_args(tp) if _is_model(a)]


def _tags(model: type[BaseModel]) -> tuple[str, ...]:
    field = model.model_fields.get("type")
    return tuple(str(a) for a in get_args(field.annotation)) if field else ()
