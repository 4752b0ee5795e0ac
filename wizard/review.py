"""What the buyer reads on Check your answers and on the Subs page: answers in words, with prices."""
from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from . import numbers, pricing
from .forms import NUMBER_CHOICES, StepContext
from .i18n import day, money
from .models import PhoneNumber, User
from .sim import grouped
from .templating import unbroken

KIND = {"mobile": _l("Mobile"), "fixed": _l("Fixed")}
BASIS = {"bound": _l("Bound (contract prices)"), "unbound": _l("Unbound (current price list)")}


def answer_text(ctx: StepContext, key: str) -> str:
    """One step's answer as a sentence fragment."""
    a = ctx.answers.get(key, {})
    sess, org = ctx.sess, ctx.org
    if key == "type":
        return str(KIND.get(a.get("kind"), ""))
    if key == "price_basis":
        return str(BASIS.get(a.get("basis"), ""))
    if key in ("call_rate", "data_package"):
        item = pricing.item(sess, org, ctx.basis, key, ctx.kind, a.get("code"), ctx.today)
        return f"{item.name}, {money(item.monthly_ore)} {_('per month')}" if item else ""
    if key == "number":
        label = dict(NUMBER_CHOICES).get(a.get("choice"), "")
        text = f"{unbroken(numbers.national(a['e164']))} ({label})" if a.get("e164") else str(label)
        if a.get("choice") == "port":
            text += f" · {unbroken(numbers.international(a['e164']))}"
            text += " · " + _("from %(operator)s on %(date)s", operator=a["port_operator"], date=day(date.fromisoformat(a["port_date"])))
            if a.get("port_owner") == "other":
                text += " · " + _("owned by organisation %(number)s", number=a["port_owner_org_number"])
        return text
    if key == "sim":
        return _("Physical SIM, ICC %(icc)s", icc=unbroken(grouped(a["icc"]))) if a.get("sim_kind") == "physical" else _("eSIM (QR code after saving)")
    if key == "pbx":
        if a.get("mode") == "pbx":
            return _("PBX-integrated, MEX on") if a.get("mex") else _("PBX-integrated, MEX off")
        return _("Independent (no PBX features)")
    if key == "user":
        user = sess.get(User, int(a["user_id"])) if a.get("user_id") else None
        text = user.name if user else ""
        if a.get("mex_partner"):
            partner = sess.get(PhoneNumber, int(a["mex_partner"]))
            text += " · " + _("MEX with %(number)s", number=unbroken(numbers.national(partner.e164)))
        return text
    if key == "top_up":
        return _("Yes") if a.get("top_up") == "yes" else _("No")
    return ""
