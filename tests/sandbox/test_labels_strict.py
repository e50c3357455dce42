"""Labels as spec/requests/api/labels_spec.rb and group_labels_spec.rb assert, with
lib/api/helpers/label_helpers.rb (``find_label``) and app/finders/labels_finder.rb."""

from __future__ import annotations

from gl_csm.sandbox import Sandbox

from .conftest import Http

P = "/projects/customer-success%2Faccounts"
G = "/groups/customer-success"


def _label(http: Http, where: str, name: str) -> dict:
    r = http.post(f"{where}/labels", json={"name": name, "color": "#123456"})
    assert r.status_code == 201, r.text
    return r.json()


def test_label_id_is_looked_up_before_the_title(http: Http) -> None:
    """``find_label``: ``labels.find_by_id(id_or_title) || labels.find_by_title(...)``;
    labels_spec.rb "when using label_id" (``it_behaves_like 'label update API'``)."""
    first = _label(http, P, "first")
    _label(http, P, str(first["id"] + 1))  # titled like the id of the next label
    third = _label(http, P, "third")
    assert third["id"] == first["id"] + 2
    titled = str(first["id"] + 1)
    got = http.get(f"{P}/labels/{titled}").json()
    assert got["name"] == titled  # label id+1 is the one titled so: id and title agree
    got = http.get(f"{P}/labels/{first['id']}").json()
    assert got["name"] == "first"
    # A title that is another label's id finds that label, not the titled one.
    numbered = _label(http, P, str(third["id"]))
    assert http.get(f"{P}/labels/{third['id']}").json()["name"] == "third"
    r = http.put(f"{P}/labels/{third['id']}", json={"description": "by id"})
    assert (r.json()["id"], r.json()["description"]) == (third["id"], "by id")
    assert http.get(f"{P}/labels/{numbered['id']}").json()["description"] is None


def test_include_ancestor_groups_false_keeps_the_projects_own_group(
    sb: Sandbox, http: Http
) -> None:
    """labels_spec.rb "GET /projects/:id/labels", "with subgroups", "when the
    include_ancestor_groups parameter is set to false": the subgroup's labels and the
    project's, not the parent group's."""
    sb.seed(projects=[("account-management/customers/acme", "private")])
    project = "/projects/account-management%2Fcustomers%2Facme"
    _label(http, "/groups/account-management", "parent label")
    _label(http, "/groups/account-management%2Fcustomers", "support label")
    _label(http, project, "bug")
    every = [lb["name"] for lb in http.get(f"{project}/labels").json()]
    assert every == ["bug", "parent label", "support label"]
    own = http.get(f"{project}/labels", params={"include_ancestor_groups": "false"}).json()
    assert [lb["name"] for lb in own] == ["bug", "support label"]


def test_delete_project_label_rest_and_deprecated_routes(http: Http) -> None:
    """labels_spec.rb "DELETE /projects/:id/labels": ``it 'returns 204 for existing
    label (rest route)'``, ``(deprecated route)``, ``it 'returns 404 for non existing
    label'`` (``404 Label Not Found``), ``it 'returns 400 for wrong parameters'``,
    ``it 'fails if label_id and name are given in params'``."""
    one = _label(http, P, "one")
    _label(http, P, "two & more")
    issue = http.post(f"{P}/issues", json={"title": "t", "labels": "one,two & more"}).json()
    r = http.delete(f"{P}/labels/{one['id']}")
    assert (r.status_code, r.content) == (204, b"")
    r = http.delete(f"{P}/labels", params={"name": "two & more"})
    assert r.status_code == 204
    assert http.get(f"{P}/issues/{issue['iid']}").json()["labels"] == []
    r = http.delete(f"{P}/labels", params={"name": "unknown"})
    assert (r.status_code, r.json()) == (404, {"message": "404 Label Not Found"})
    assert http.delete(f"{P}/labels").status_code == 400
    three = _label(http, P, "three")
    r = http.delete(f"{P}/labels", params={"label_id": three["id"], "name": "three"})
    assert r.status_code == 400
    r = http.put(f"{P}/labels", json={"label_id": three["id"], "name": "x", "new_name": "y"})
    assert r.status_code == 400


def test_group_label_through_the_project(http: Http) -> None:
    """labels_spec.rb "with group label": ``it 'returns 204 if user has access'``
    (DELETE /projects/:id/labels/:group_label_id) and ``it 'allows updating of group
    label priority'``: the priority is the project's own."""
    label = _label(http, G, "from group")
    r = http.put(f"{P}/labels/{label['id']}", json={"priority": 5})
    assert (r.status_code, r.json()["priority"]) == (200, 5)
    assert http.get(f"{G}/labels/{label['id']}").json()["priority"] is None
    assert http.delete(f"{P}/labels/{label['id']}").status_code == 204
    assert http.get(f"{G}/labels").json() == []


def test_delete_group_label(http: Http) -> None:
    """group_labels_spec.rb "DELETE /groups/:id/labels/:label_id": 204; 404 after."""
    label = _label(http, G, "gone")
    assert http.delete(f"{G}/labels/{label['id']}").status_code == 204
    assert http.delete(f"{G}/labels/{label['id']}").status_code == 404
    _label(http, G, "by name")
    assert http.delete(f"{G}/labels", params={"name": "by name"}).status_code == 204


def test_subscribe_and_unsubscribe(http: Http) -> None:
    """labels_spec.rb "POST /projects/:id/labels/:label_id/subscribe": 201 with
    ``subscribed`` true, by title or id; ``it "returns 304"`` when already subscribed;
    404 for an unknown id; unsubscribe the same way round."""
    label = _label(http, P, "Label foo & bar:subgroup::v.1")
    r = http.post(f"{P}/labels/Label%20foo%20%26%20bar%3Asubgroup%3A%3Av.1/subscribe")
    assert (r.status_code, r.json()["subscribed"]) == (201, True)
    r = http.post(f"{P}/labels/{label['id']}/subscribe")
    assert (r.status_code, r.content) == (304, b"")
    assert http.get(f"{P}/labels/{label['id']}").json()["subscribed"] is True
    assert http.post(f"{P}/labels/999999/subscribe").status_code == 404
    r = http.post(f"{P}/labels/{label['id']}/unsubscribe")
    assert (r.status_code, r.json()["subscribed"]) == (201, False)
    assert http.post(f"{P}/labels/{label['id']}/unsubscribe").status_code == 304
