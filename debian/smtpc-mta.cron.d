# Sends the messages smtpc queued (the "queue" of /etc/smtpc.conf) again.
# With systemd, smtpc-flush-queue.timer does this instead.
*/10 * * * *	root	[ ! -d /run/systemd/system ] && [ -x /usr/bin/smtpc ] && /usr/bin/smtpc --flush-queue
