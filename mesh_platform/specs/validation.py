"""Turn pydantic and jsonschema errors into Problems with the offending line."""

from __future__ import annotations

import re
from typing import Any, TypeVar

import jsonschema
import pydantic

from mesh_platform.specs.errors import Problem, RuleError, SpecError
from mesh_platform.specs.yaml_source import YamlDocument

M = TypeVar("M", bound=pydantic.BaseModel)


def validate_model(doc: YamlDocument, model: type[M], data: Any | None = None, base_path: tuple = ()) -> M:
    try:
        return model.model_validate(doc.data if data is None else data)
    except pydantic.ValidationError as exc:
        problems = []
        for err in exc.errors():
            path = (*base_path, *(p for p in err["loc"] if not _is_union_tag(p)))
            problems.append(doc.problem(path, _expected(err), _model_rule(err)))
        raise SpecError(problems) from None


_VALIDATORS: dict[int, tuple[dict[str, Any], Any]] = {}


def _validator(schema: dict[str, Any]) -> Any:
    """One compiled validator per schema object (the standards' schemas are loaded once)."""
    held = _VALIDATORS.get(id(schema))
    if held is None or held[0] is not schema:
        held = _VALIDATORS[id(schema)] = (schema, jsonschema.validators.validator_for(schema)(schema))
    return held[1]


def validate_json_schema(doc: YamlDocument, schema: dict[str, Any]) -> None:
    validator = _validator(schema)
    errors = sorted(validator.iter_errors(doc.data), key=lambda e: list(map(str, e.absolute_path)))
    # When a subschema fails (e.g. a duckdb server without `database`), its properties count as
    # unevaluated and `unevaluatedProperties` also flags valid fields; only the real error helps.
    other_paths = {tuple(e.absolute_path) for e in errors if e.validator != "unevaluatedProperties"}
    errors = [e for e in errors if e.validator != "unevaluatedProperties" or tuple(e.absolute_path) not in other_paths]
    problems: list[Problem] = []
    for err in errors:
        # anyOf/oneOf errors are vague at the top; the deepest sub-error names the real field.
        best = jsonschema.exceptions.best_match([err])
        path = tuple(best.absolute_path)
        if best.validator == "additionalProperties" and isinstance(best.instance, dict):
            # Name each unknown key on its own line, not the mapping that holds it.
            known = best.schema.get("properties", {}) if isinstance(best.schema, dict) else {}
            for key in [k for k in best.instance if k not in known] or [None]:
                problems.append(
                    doc.problem(
                        (*path, key) if key is not None else path,
                        "unknown field: the standard defines no such field here "
                        "(check the spelling; platform fields go in customProperties)",
                        "spec.unknown_field",
                    )
                )
            continue
        if best.validator == "required" and (missing := _REQUIRED.match(best.message)):
            problems.append(doc.problem((*path, missing[1]), "required field is missing", "spec.required"))
            continue
        problems.append(doc.problem(path, _short(f"expected {_describe_schema(best)}; {best.message}"), "spec.schema"))
    if problems:
        raise SpecError(problems)


_REQUIRED = re.compile(r"^'(.+)' is a required property$")


def _short(message: str, limit: int = 300) -> str:
    return message if len(message) <= limit else message[: limit - 3] + "..."


def _model_rule(err: dict[str, Any]) -> str:
    """The rule a model validator names (RuleError), else what kind of mistake pydantic saw."""
    error = (err.get("ctx") or {}).get("error")
    if isinstance(error, RuleError):
        return error.rule
    return {"missing": "spec.required", "extra_forbidden": "spec.unknown_field"}.get(err["type"], "spec.field")


def _is_union_tag(part: Any) -> bool:
    # pydantic inserts the union member's type name into loc ("str", "list[...]").
    return isinstance(part, str) and ("[" in part or part in {"str", "int", "float", "bool"})


def _expected(err: dict[str, Any]) -> str:
    kind = err["type"]
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        return "unknown field (check the spelling; see docs/adding-a-product.md)"
    message = err["msg"]
    if kind == "value_error":  # our own validators' messages say what was expected and what was got
        message = message.removeprefix("Value error, ")
        if " got " in message:
            return message
    shown = repr(err.get("input"))
    return f"{message} (got {shown if len(shown) <= 80 else shown[:77] + '...'})"


def _describe_schema(err: jsonschema.ValidationError) -> str:
    keyword = err.validator
    value = err.validator_value
    if keyword == "type":
        return f"type {value}"
    if keyword == "enum":
        return f"one of {value}"
    if keyword == "required":
        return f"required fields {value}"
    if keyword == "additionalProperties":
        return "only fields defined by the standard"
    return f"{keyword} {value!r}" if not isinstance(value, (dict, list)) else str(keyword)
