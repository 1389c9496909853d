"""Slack listeners: parse the payload, call one function in `bot/`, render the answer.

Each feature module here exposes `register(app, services, router)`; they are found by
name so that a new feature does not edit this file or the router.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

from slack_bolt import App

from bot.runtime.services import Services
from handlers.router import Router


def register_all(app: App, services: Services) -> Router:
    router = Router(services)
    # Bolt tries each listener's matchers in the order they were registered: the slash
    # command first, as the most frequent request, saves every command trying the ~30 other
    # listeners (about a millisecond). The subcommands it dispatches to are looked up when
    # a command arrives, so they may be added afterwards.
    router.register(app)
    for module in feature_modules():
        module.register(app, services, router)
    return router


def feature_modules() -> list[ModuleType]:
    import handlers

    modules = []
    for info in sorted(pkgutil.iter_modules(handlers.__path__), key=lambda i: i.name):
        if info.name.startswith("_") or info.name == "router":
            continue
        module = importlib.import_module(f"handlers.{info.name}")
        if hasattr(module, "register"):
            modules.append(module)
    return modules
