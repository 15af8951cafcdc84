"""Prompt templates of the optional LLM layer, shipped as package data (``*.yaml``; see ``README.md`` here).

This package holds no code: :func:`automations.llm.prompts.load_prompt` reads the templates through
:mod:`importlib.resources`, so an installed wheel finds them as a checkout does.
"""
