"""WTForms for accounts and settings."""

from zoneinfo import available_timezones

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.validators import Email, EqualTo, InputRequired, Length, Optional, ValidationError

MIN_PASSWORD = 10
TIMEZONES = sorted(available_timezones() - {"localtime", "Factory"})


class SignupForm(FlaskForm):
    email = EmailField("Email", validators=[InputRequired(), Email(message="Enter a valid email address, like you@example.org."), Length(max=254)])
    password = PasswordField(
        "Password",
        validators=[InputRequired(), Length(min=MIN_PASSWORD, max=200, message=f"Use at least {MIN_PASSWORD} characters.")],
    )


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[InputRequired(), Email(message="Enter a valid email address, like you@example.org.")])
    password = PasswordField("Password", validators=[InputRequired()])
    remember = BooleanField("Keep me signed in")


def validate_timezone(_form, field) -> None:
    if field.data not in TIMEZONES:
        raise ValidationError(f'"{field.data}" is not a time zone name; pick one like Europe/Berlin.')


class ProfileForm(FlaskForm):
    email = EmailField("Email", validators=[Optional(), Email(message="Enter a valid email address, like you@example.org."), Length(max=254)])
    display_name = StringField("Display name", validators=[Optional(), Length(max=100)])
    timezone = SelectField("Time zone", choices=TIMEZONES, validate_choice=False,
                           validators=[InputRequired(), validate_timezone])


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField("Current password")
    new_password = PasswordField(
        "New password",
        validators=[InputRequired(), Length(min=MIN_PASSWORD, max=200, message=f"Use at least {MIN_PASSWORD} characters.")],
    )
    confirm = PasswordField("Repeat new password", validators=[EqualTo("new_password", message="The two passwords differ.")])


class DeleteAccountForm(FlaskForm):
    confirm = StringField("Type DELETE to confirm", validators=[InputRequired()])

    def validate_confirm(self, field) -> None:
        if field.data.strip() != "DELETE":
            raise ValidationError("Type DELETE in capitals to confirm.")
