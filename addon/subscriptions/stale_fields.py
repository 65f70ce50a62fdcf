"""A merge value refused because its field changed in Mailchimp after the app last read the
audience's merge fields (a dropdown's choices renamed, a date's format switched).

The app converts each value against the fields it imported (`audiences.merge_values`), read
again only every few hours. Mailchimp refuses the whole member write for one bad value (400
Invalid Resource, "Your merge fields were invalid.", the field's own message in `errors`:
"DROPDOWN : Value must be one of: …", mailchimp/mc-magento#885), so the subscription or profile
update failed on every retry and was lost. The write goes again without the fields refused,
each reported as not sent (Activity), and the audiences are imported again so the next values
are checked against what Mailchimp has. (A changed date format Mailchimp still accepts, a day
and month swapped, is not seen until that import.)
"""

from __future__ import annotations

from addon.mailchimp import ValidationFailed
from addon.subscriptions.member_fields import MemberData


def drop_refused(exc: ValidationFailed, data: MemberData) -> bool:
    """Take the merge fields Mailchimp refused (its errors name them by tag, or as
    `merge_fields.<TAG>` where a value is not of the field's schema: mailchimp/mc-magento2#593)
    out of `data`, each reported in `data.problems`; whether there was any."""
    named = {field.removeprefix("merge_fields."): text for field, text in exc.field_errors.items()}
    refused = {tag: text for tag, text in named.items() if tag in data.merge_fields}
    for tag, text in refused.items():
        del data.merge_fields[tag]
        data.problems.append(
            f"{tag}: Mailchimp refused the value ({text}); the merge field was changed in "
            "Mailchimp since the app read it, and the audience is read again."
        )
    return bool(refused)
