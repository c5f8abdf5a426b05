"""The only package that imports IPython: the extension object, its hooks, magics and comm.

Thin glue: analysis, tracking and conversion do the work; this package wires them into the shell.
"""
