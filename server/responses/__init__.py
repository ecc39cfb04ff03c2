"""Canned responses: searching them (`search`) and rendering their Liquid (`render`)."""
