"""The one exception type that means "the user gave us something wrong".

The CLI turns a `UserError` into one line on stderr and exit status 2, never a traceback.
The library raises it with a message that already names the file, the line and what is wrong.
"""


class UserError(Exception):
    """Bad input from the user (a file, a flag, a run directory). Its message is shown as is."""
