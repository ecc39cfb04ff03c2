"""Canned responses (`/api/responses`): personal, team or organization scope; search as
you type; Liquid rendered for a conversation, with form variables asked for first.

Who sees one: its owner (personal), the team's members (team; owners and admins too),
everyone in the organization (organization). Whoever sees a shared response may edit it
(CR-16; the product's "admins only" restriction is not offered); a personal one only its
owner. Limits: 1,000 personal responses per user and 1,000 shared per organization.
A response's files are uploaded and removed in `server/routes/attachments.py`.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from pycrdt import Map, XmlElement, XmlFragment, XmlText
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from server.access import draft_for
from server.actions.attachments import attachment_json, copy_from_response, list_copies
from server.actions.directory import load_directory
from server.actions.draft_writer import change_draft
from server.auth import require_user
from server.conversations.model import Directory, TeamInfo, latest
from server.errors import Forbidden, InvalidInput, NotFound
from server.json import json_response, read_json_object
from server.responses.render import Person, TemplateError, check, form_variables, render
from server.responses.search import Searchable, search
from server.services import Services, services_of
from server.storage.attachments import AttachmentRecord
from server.storage.base import User
from server.storage.responses import ResponseRecord

SCOPES = ("personal", "team", "organization")
FIELDS = ("to", "cc", "bcc")
MAX_TITLE = 500


def visible_to(record: ResponseRecord, user: str, directory: Directory) -> bool:
    if record.scope == "personal":
        return record.user_id == user
    if record.scope == "team":
        team = directory.teams.get(record.team_id or "")
        admin = directory.members.get(user) in ("owner", "admin")
        return admin or (team is not None and user in team.members)
    return user in directory.members


def may_share(user: str, team: TeamInfo, directory: Directory) -> bool:
    """Sharing a response with a team takes being in it, or an owner or admin."""
    return user in team.members or directory.members.get(user) in ("owner", "admin")


def _json(record: ResponseRecord, attachments: list[AttachmentRecord]) -> dict[str, Any]:
    return {
        "id": record.id, "scope": record.scope, "team": record.team_id, "title": record.title,
        "subject": record.subject, "body": record.body,
        **{key: record.recipients.get(key, []) for key in FIELDS},
        "form": form_variables(record.subject, record.body),
        "attachments": [attachment_json(a) for a in attachments],
        "updated_at": record.updated_at // 1000,
    }  # fmt: skip


async def _directory(services: Services, user: User, request: Request) -> Directory:
    wanted = request.query_params.get("organization")
    orgs = [m.org_id for m in await services.storage.memberships_for_user(user.id)]
    chosen = [org for org in orgs if wanted in (None, org)]
    if not chosen:
        raise Forbidden("you are not a member of that organization", field="organization")
    return await load_directory(services.storage, chosen[0])


def _text(body: dict[str, Any], key: str, default: str | None = None, limit: int = 100_000) -> str:
    value = body.get(key, default)
    if not isinstance(value, str) or (default is None and not value.strip()):
        raise InvalidInput(f"'{key}' must be a non-empty string", field=key)
    if len(value) > limit:
        raise InvalidInput(f"'{key}' holds at most {limit} characters", field=key)
    return value


def recipients_from(
    body: dict[str, Any], current: dict[str, Any], *, suffix: str = "", where: str = ""
) -> dict[str, Any]:
    """To/Cc/Bcc from a request (keys `to`… here, `to_fields`… in the Missive API), each a
    list of {address, name}; keys the request leaves out keep their `current` value."""
    out = dict(current)
    for key in FIELDS:
        value = body.get(key + suffix)
        if value is None:
            continue
        name = f"{where}.{key}{suffix}" if where else f"{key}{suffix}"
        if not isinstance(value, list) or not all(
            isinstance(a, dict) and isinstance(a.get("address"), str) for a in value
        ):
            raise InvalidInput(f"'{name}' must be a list of {{address, name}}", field=name)
        out[key] = [{"address": a["address"], "name": str(a.get("name") or "")} for a in value]
    return out


def checked(subject: str, body: str) -> None:
    for key, template in (("subject", subject), ("body", body)):
        try:
            check(template)
        except TemplateError as exc:
            raise InvalidInput(f"'{key}' is not valid Liquid: {exc}", field=key) from None


async def list_responses(request: Request) -> Response:
    services = services_of(request)
    user = await require_user(request)
    directory = await _directory(services, user, request)
    mine = [
        r for r in await services.storage.responses(directory.org_id)
        if visible_to(r, user.id, directory)
    ]  # fmt: skip
    query = request.query_params.get("q", "")
    if query.strip():
        org = await services.storage.get_organization(directory.org_id)
        teams = {t.name: t.id for t in directory.teams.values() if user.id in t.members}
        found = search(
            [Searchable(r.id, r.title, r.subject, r.body, r.scope, r.team_id) for r in mine],
            query,
            org_name=org.name if org else "",
            teams=teams,
        )
        by_id = {r.id: r for r in mine}
        mine = [by_id[item.id] for item in found]
    files = await services.storage.response_attachments(directory.org_id)
    return json_response({"responses": [_json(r, files.get(r.id, [])) for r in mine]})


async def create_response(request: Request) -> Response:
    services = services_of(request)
    user = await require_user(request)
    directory = await _directory(services, user, request)
    body = await read_json_object(request)
    scope = body.get("scope", "personal")
    if scope not in SCOPES:
        raise InvalidInput(f"'scope' is one of {', '.join(SCOPES)}", field="scope")
    team = body.get("team")
    if scope == "team":
        info = directory.teams.get(team) if isinstance(team, str) else None
        if info is None:
            raise InvalidInput("a team response needs the id of a team", field="team")
        if not may_share(user.id, info, directory):
            raise Forbidden(f"you are not in team {info.name}", field="team")
    title = _text(body, "title", limit=MAX_TITLE)
    subject, text = _text(body, "subject", "", MAX_TITLE), _text(body, "body")
    checked(subject, text)
    record = ResponseRecord(
        "", directory.org_id, scope, user.id if scope == "personal" else None,
        team if scope == "team" else None, title, subject, text,
        recipients_from(body, {}), user.id,
    )  # fmt: skip
    saved = await services.storage.create_response(record)
    return json_response({"response": _json(saved, [])}, status_code=201)


async def response_for(services: Services, user: User, response_id: str) -> ResponseRecord:
    """The response `user` sees (and so may edit); `404` otherwise."""
    record = await services.storage.response(response_id)
    if record is None:
        raise NotFound("no such response")
    directory = await load_directory(services.storage, record.org_id)
    if not visible_to(record, user.id, directory):
        raise NotFound("no such response")
    return record


async def update_response(request: Request) -> Response:
    services = services_of(request)
    user = await require_user(request)
    record = await response_for(services, user, request.path_params["response_id"])
    body = await read_json_object(request)
    unknown = set(body) - {"title", "subject", "body", *FIELDS}
    if unknown:
        raise InvalidInput(f"a response has no {sorted(unknown)[0]!r}", field=sorted(unknown)[0])
    title = _text(body, "title", limit=MAX_TITLE) if "title" in body else record.title
    subject = _text(body, "subject", "", MAX_TITLE) if "subject" in body else record.subject
    text = _text(body, "body") if "body" in body else record.body
    checked(subject, text)
    changed = dataclasses.replace(
        record, title=title, subject=subject, body=text,
        recipients=recipients_from(body, record.recipients),
    )  # fmt: skip
    saved = await services.storage.update_response(changed)
    files = await services.storage.attachments_of(response_id=saved.id)
    return json_response({"response": _json(saved, files)})


async def delete_response(request: Request) -> Response:
    services = services_of(request)
    user = await require_user(request)
    record = await response_for(services, user, request.path_params["response_id"])
    await services.storage.delete_response(record.id)
    return Response(status_code=204)


async def render_response(request: Request) -> Response:
    """`{"conversation"?: id, "form"?: {name: value}}` → the rendered subject, body and
    recipients; or `{"needs": [names]}` while form variables are missing (V-6)."""
    services = services_of(request)
    user = await require_user(request)
    record = await response_for(services, user, request.path_params["response_id"])
    body = await read_json_object(request)
    form = body.get("form", {})
    if not isinstance(form, dict) or not all(isinstance(v, str) for v in form.values()):
        raise InvalidInput("'form' maps each variable to a string", field="form")
    needs = [name for name in form_variables(record.subject, record.body) if name not in form]
    if needs:
        return json_response({"needs": needs})
    context = await _context(services, user, body.get("conversation"))
    rendered = {
        "subject": render(record.subject, context, form),
        "body": render(record.body, context, form),
        **{key: record.recipients.get(key, []) for key in FIELDS},
    }
    return json_response({"rendered": rendered})


async def _context(services: Services, user: User, conv_id: object) -> dict[str, Any]:
    context: dict[str, Any] = {"user": Person(user.email, user.name or "").as_liquid()}
    if conv_id is None:
        return context
    if not isinstance(conv_id, str) or not await services.storage.conversation_access(
        conv_id, user.id
    ):
        raise NotFound("no such conversation", field="conversation")
    conv = await services.conversations.read(conv_id)
    inbound = [m for m in conv.messages if m.direction == "in"]
    last = latest(inbound) if inbound else None
    context["conversation"] = {"id": conv.id, "subject": conv.subject}
    if last is not None:
        context["recipient"] = Person(last.from_address, last.from_name).as_liquid()
        context["message"] = {"subject": last.subject, "from": last.from_address}
    return context


async def insert_into_draft(request: Request) -> Response:
    """`POST /api/drafts/{id}/responses` `{"response": id, "form"?: {...}}`: the rendered
    response goes into the draft in one update — its text as paragraphs at the end of the
    body, its recipients added to To/Cc/Bcc (no address twice), its subject if the draft
    has none, its files copied into the draft and listed (an inline image also at the end
    of the body) — or `{"needs": [...]}` while form variables are missing. Files that
    would take the draft past its limit are `413` and nothing is inserted."""
    services = services_of(request)
    user = await require_user(request)
    draft = await draft_for(
        services.storage, user.id, request.path_params["draft_id"], editing=True
    )
    body = await read_json_object(request)
    response_id = body.get("response")
    record = await services.storage.response(response_id) if isinstance(response_id, str) else None
    directory = await load_directory(services.storage, draft.org_id)
    if record is None or not visible_to(record, user.id, directory):
        raise InvalidInput("no such response", field="response")
    form = body.get("form", {})
    if not isinstance(form, dict) or not all(isinstance(v, str) for v in form.values()):
        raise InvalidInput("'form' maps each variable to a string", field="form")
    needs = [name for name in form_variables(record.subject, record.body) if name not in form]
    if needs:
        return json_response({"needs": needs})
    context = await _context(services, user, draft.conversation_id)
    text = render(record.body, context, form)
    subject = render(record.subject, context, form)
    copies = await copy_from_response(services, record.id, draft.id, user.id)

    def insert(doc: Any) -> None:
        fragment = doc.get("body", type=XmlFragment)
        for line in text.split("\n"):
            paragraph = fragment.children.append(XmlElement("paragraph"))
            if line:
                paragraph.children.append(XmlText(line))
        headers = doc.get("headers", type=Map)
        for key in FIELDS:
            adding = record.recipients.get(key, [])
            if not adding:
                continue
            current = list(headers.get(f"{key}_fields") or [])
            known = {str(a.get("address", "")).lower() for a in current}
            fresh = [a for a in adding if a["address"].lower() not in known]
            if fresh:
                headers[f"{key}_fields"] = [*current, *fresh]
        if subject.strip() and not str(headers.get("subject") or "").strip():
            headers["subject"] = subject.strip()
        list_copies(doc, copies)

    try:
        await change_draft(services, draft.id, insert)
    except Exception:
        await services.storage.forget_attachments([copy.id for copy in copies])
        raise
    inserted = {"response": record.id, "draft": draft.id, "attachments": [c.id for c in copies]}
    return json_response({"inserted": inserted})


routes: list[BaseRoute] = [
    Route("/api/drafts/{draft_id}/responses", insert_into_draft, methods=["POST"]),
    Route("/api/responses", list_responses, methods=["GET"]),
    Route("/api/responses", create_response, methods=["POST"]),
    Route("/api/responses/{response_id}", update_response, methods=["PATCH"]),
    Route("/api/responses/{response_id}", delete_response, methods=["DELETE"]),
    Route("/api/responses/{response_id}/render", render_response, methods=["POST"]),
]
