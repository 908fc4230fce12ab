"""What every part of the contract compiler (compiler.py, compile_*.py) shares: the names of a
schema object and a property as the checks use them, and a value as an error quotes it."""

from __future__ import annotations

from typing import Any

from open_data_contract_standard.model import SchemaObject, SchemaProperty


def _name(obj: SchemaObject) -> str:
    return obj.physicalName or obj.name


def _col(prop: SchemaProperty) -> str:
    return prop.physicalName or prop.name


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
