"""A local Autotask PSA REST API (v1.0) simulator for the sandbox. See README.md beside this file."""

from sandbox.autotask.app import create_app
from sandbox.autotask.errors import AutotaskError
from sandbox.autotask.simulator import API_RESOURCE_ID, UI_RESOURCE_ID, AutotaskSimulator

__all__ = ["API_RESOURCE_ID", "UI_RESOURCE_ID", "AutotaskError", "AutotaskSimulator", "create_app"]
