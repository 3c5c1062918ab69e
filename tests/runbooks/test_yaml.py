"""The shipped examples import, export and import again unchanged; a broken file names the runbook
and field and imports nothing."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from runbooks.models import Runbook

pytestmark = pytest.mark.django_db


def test_the_examples_import_and_round_trip(severities, tmp_path) -> None:
    out = StringIO()
    call_command("runbook_import", "--examples", stdout=out)
    names = set(Runbook.objects.values_list("name", flat=True))
    assert {"Database recovery", "Service down recovery", "Message queue overflow", "LLM API errors",
            "Security incident response"} <= names
    exported = StringIO()
    call_command("runbook_export", stdout=exported)
    (tmp_path / "all.yaml").write_text(exported.getvalue())
    call_command("runbook_import", str(tmp_path / "all.yaml"), stdout=StringIO())
    again = StringIO()
    call_command("runbook_export", stdout=again)
    assert again.getvalue() == exported.getvalue()
    assert set(Runbook.objects.values_list("version", flat=True)) == {2}


def test_a_broken_file_names_the_runbook_and_field_and_imports_nothing(tmp_path, severities) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("runbooks:\n  - name: Fine\n    steps: [{title: A, action: manual}]\n"
                    "  - name: Broken\n    steps: [{title: Wait, action: wait, params: {seconds: -3}}]\n")
    with pytest.raises(CommandError, match=r"runbook 2 \(Broken\): Step 1 “Wait”: seconds must be between"):
        call_command("runbook_import", str(path), stdout=StringIO())
    assert not Runbook.objects.exists()


def test_the_admin_lists_runbooks_and_runs(admin_client, severities) -> None:
    call_command("runbook_import", "--examples", stdout=StringIO())
    book = Runbook.objects.get(name="Database recovery")
    page = admin_client.get(f"/admin/runbooks/runbook/{book.pk}/change/")
    assert page.status_code == 200 and "Approve restart" in page.content.decode()
    assert admin_client.get("/admin/runbooks/runbookrun/").status_code == 200
