"""Menus, toolbars, the plugin path, messages and start-up callbacks of a fake Nuke session.

Sources: Foundry's Python API reference (nuke.menu, Menu.addCommand "name may contain '/'
for submenus", nuke.toolbar, nuke.pluginAddPath, nuke.message, nuke.addOnScriptLoad).
Without a GUI there are no menus or toolbars; asking for one raises.
"""

from __future__ import annotations

import sys
from typing import Any, Callable, Dict, List, Optional

from ._state import require_main_thread, state


# --------------------------------------------------------------------------- menus and paths
class MenuItem:
    def __init__(self, name: str, script: Any = "", icon: str = "", shortcut: str = "") -> None:
        self._name, self._script, self._icon, self._shortcut = name, script, icon, shortcut

    def name(self) -> str:
        return self._name

    def icon(self) -> str:
        return self._icon

    def script(self) -> str:
        return self._script if isinstance(self._script, str) else repr(self._script)

    def shortcut(self) -> str:
        return self._shortcut

    def invoke(self) -> None:
        require_main_thread("MenuItem.invoke")
        if callable(self._script):
            self._script()
        else:
            exec(compile(str(self._script), f"<menu {self._name}>", "exec"), {"nuke": sys.modules["nuke"]})


class Menu(MenuItem):
    def __init__(self, name: str, icon: str = "") -> None:
        super().__init__(name, "", icon)
        self._items: List[MenuItem] = []

    def addCommand(self, name: str, command: Any = "", shortcut: str = "", icon: str = "",
                   tooltip: str = "", index: int = -1, readonly: bool = False) -> MenuItem:
        require_main_thread("Menu.addCommand")
        head, _, rest = name.partition("/")
        if rest:
            return self.addMenu(head).addCommand(rest, command, shortcut, icon)
        item = MenuItem(name, command, icon, shortcut)
        self._items.append(item)
        return item

    def addMenu(self, name: str, icon: str = "", tooltip: str = "", index: int = -1) -> Menu:
        existing = self.findItem(name)
        if isinstance(existing, Menu):
            return existing
        sub = Menu(name, icon)
        self._items.append(sub)
        return sub

    def addSeparator(self) -> None:
        self._items.append(MenuItem("", ""))

    def findItem(self, name: str) -> Optional[MenuItem]:  # type: ignore[override]
        head, _, rest = name.partition("/")
        item = next((i for i in self._items if i.name() == head), None)
        if rest and isinstance(item, Menu):
            return item.findItem(rest)
        return item

    def menu(self, name: str) -> Optional[Menu]:
        item = self.findItem(name)
        return item if isinstance(item, Menu) else None

    def items(self) -> List[MenuItem]:  # type: ignore[override]
        return list(self._items)


class ToolBar(Menu):
    pass


def menu(name: str) -> Menu:
    require_main_thread("menu")
    if not state().gui:
        raise RuntimeError("fake nuke: menu() has no menus without a GUI")
    return state().menus.setdefault(name, Menu(name))


def toolbar(name: str, create: bool = True) -> Optional[ToolBar]:
    require_main_thread("toolbar")
    if not state().gui:
        raise RuntimeError("fake nuke: toolbar() has no toolbars without a GUI")
    if name not in state().toolbars and not create:
        return None
    return state().toolbars.setdefault(name, ToolBar(name))


def pluginAddPath(args: str, addToSysPath: bool = True) -> None:
    state().plugin_paths.insert(0, str(args))
    if addToSysPath and str(args) not in sys.path:
        sys.path.insert(0, str(args))


def pluginAppendPath(args: str, addToSysPath: bool = True) -> None:
    state().plugin_paths.append(str(args))
    if addToSysPath and str(args) not in sys.path:
        sys.path.append(str(args))


def pluginPath() -> List[str]:
    return list(state().plugin_paths)


# ------------------------------------------------------------------------------ messages, log
def tprint(*args: Any, sep: str = " ", end: str = "\n", file: Any = None) -> None:
    text = sep.join(str(a) for a in args)
    state().printed.append(text)
    print(text, end=end, file=file or sys.stdout)


def message(prompt: str) -> None:
    require_main_thread("message")
    state().messages.append(prompt)


def ask(prompt: str) -> bool:
    """Foundry's API: "Show a Yes/No dialog; returns True for Yes". A modal dialog needs a user and
    the main thread: the fake answers only with a reply a test queued, and refuses otherwise."""
    require_main_thread("ask")
    state().asked.append(prompt)
    if not state().answers:
        raise RuntimeError(f"fake nuke.ask({prompt!r}): no answer queued (a real Nuke would wait for the user); "
                           "append one to nuke._fake_state().answers")
    return state().answers.pop(0)


def alert(prompt: str) -> None:
    message(prompt)


def warning(message: str) -> None:
    state().printed.append(f"WARNING: {message}")


def error(message: str) -> None:
    state().printed.append(f"ERROR: {message}")


def debug(message: str) -> None:
    state().printed.append(f"DEBUG: {message}")


def addOnScriptLoad(call: Callable, args: tuple = (), kwargs: Optional[Dict[str, Any]] = None,
                    nodeClass: str = "Root") -> None:
    """Nuke's callbacks.py `_addCallback`: a callback is listed once (adding it again keeps one entry)."""
    entry = (call, tuple(args), dict(kwargs or {}))
    if entry not in state().on_script_load:
        state().on_script_load.append(entry)
