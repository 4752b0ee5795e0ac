"""E-mail addresses as login names: one syntax check (email-validator, no DNS) and one stored form."""

from email_validator import EmailNotValidError, validate_email

# RFC 5321 allows 254 characters in a path; longer text is refused before it is parsed at all.
MAX_LENGTH = 254


class EmailAddressError(ValueError):
    """The text is not an e-mail address; the message (email-validator's, in English) says why."""


def normalise_email(text: str) -> str:
    """The address as it is stored and looked up: checked, Unicode NFC, lower-case (all of it,
    as in identity.py: nobody has two logins that differ in case only).

    `.test` addresses are allowed (test_environment): the demo data uses that reserved domain,
    and the wizard sends no mail, so an address that cannot receive any harms nobody.
    """
    text = text.strip()
    if len(text) > MAX_LENGTH:
        raise EmailAddressError(f"The email address is too long (more than {MAX_LENGTH} characters).")
    try:
        checked = validate_email(text, check_deliverability=False, test_environment=True)
    except EmailNotValidError as exc:
        raise EmailAddressError(str(exc)) from None
    return checked.normalized.lower()
