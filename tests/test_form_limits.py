"""Every name, address and label a form takes fits whole in the column that keeps it, and the form lets
the user type all of it. A form taking one character more than its column would answer 500 on
PostgreSQL for a name of that length (SQLite keeps it whole and hides the fault); one taking less
refuses a name the database would keep. The forms' messages beside the field are tested with each form."""
import pytest
from wtforms.validators import Length

from app.activities.forms import ClassForm, LearnerForm, TopicForm
from app.activities.models import Class, ClassLearner, Topic
from app.api.forms import TokenForm
from app.api.models import ApiToken
from app.areas.forms import AreaForm
from app.auth.models import User
from app.catalogue.forms import NewServiceForm, ServiceForm
from app.households.forms import HouseholdForm
from app.households.models import Household
from app.teams.forms import DissolveForm, MemberForm, TeamForm
from app.teams.models import Member, Team
from app.units import forms as unit_forms
from app.units.models import AdminUnit, HamletChange
from app.users.forms import NewAccountForm
from app.visits.forms import VisitForm
from app.visits.models import Service

FIELDS = [
    (TeamForm, "name", Team.name), (TeamForm, "decision_number", Team.decision_number),
    (DissolveForm, "reason", Team.dissolved_reason), (MemberForm, "full_name", Member.full_name),
    (NewAccountForm, "username", User.username), (NewAccountForm, "full_name", User.full_name),
    (unit_forms.HamletForm, "name", AdminUnit.name), (unit_forms.RenameForm, "name", AdminUnit.name),
    (AreaForm, "name", AdminUnit.name),
    (LearnerForm, "name", ClassLearner.name), (ClassForm, "place_name", Class.place_name),
    (TopicForm, "name", Topic.name), (TopicForm, "name_en", Topic.name_en),
    (HouseholdForm, "head_name", Household.head_name), (HouseholdForm, "address", Household.address),
    (VisitForm, "new_name", Household.head_name), (VisitForm, "new_address", Household.address),
    (ServiceForm, "name_vi", Service.name_vi), (ServiceForm, "name_en", Service.name_en),
    (NewServiceForm, "name_vi", Service.name_vi), (NewServiceForm, "name_en", Service.name_en),
    (TokenForm, "label", ApiToken.label),
]


def _longest(form_class, name: str) -> int:
    """The most characters the form's field takes (its Length validator's max)."""
    unbound = getattr(form_class, name)
    maxima = [v.max for v in unbound.kwargs.get("validators", ()) if isinstance(v, Length)]
    assert len(maxima) == 1, f"{form_class.__name__}.{name} has no single length limit"
    return maxima[0]


@pytest.mark.parametrize("form_class, name, column", FIELDS,
                         ids=[f"{f.__name__}.{n}" for f, n, _c in FIELDS])
def test_a_form_takes_as_many_characters_as_its_column_keeps(form_class, name, column):
    assert _longest(form_class, name) == column.type.length


def test_a_hamlet_s_new_name_in_a_merge_or_a_split_fits_the_change_s_record():
    merge = unit_forms.MergeForm
    names = [n for n in dir(merge) if n.endswith("name") and hasattr(getattr(merge, n), "kwargs")]
    assert names, "the merge form names the merged hamlet"
    for name in names:
        assert _longest(merge, name) == HamletChange.to_name.type.length == AdminUnit.name.type.length
