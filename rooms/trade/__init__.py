"""Trade docking (issue 7): exhibitor profiles and slots, buyers' meeting requests, the meetings
they become, their agenda (reminders, attendance, no-shows), reports and calendar invitations.

A subpackage of the rooms domain: it uses rooms (a booked meeting is a meeting room) and the
Store's lease for its mutex, never the other way round.
"""
