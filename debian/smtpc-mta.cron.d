# Sends the messages smtpc queued (the "queue" of /etc/smtpc.conf) again.
# With systemd, smtpc-flush-queue.timer does this instead.  The summary is
# shown (and so mailed by cron) only when the flush fails.
*/10 * * * *	root	[ ! -d /run/systemd/system ] && [ -x /usr/bin/smtpc ] && { out=$(/usr/bin/smtpc --flush-queue 2>&1) || echo "$out"; }
