"""An ephemeral mtproto-auth server started from its binary, and its admin HTTP API.

`MtprotoAuthServer.start()` runs `mtproto-auth serve --ephemeral --listen 127.0.0.1:0
--admin-http 127.0.0.1:0`, reads the JSON line it prints once listening (each DC's address, the
public key, the admin address) and talks to the admin API with urllib: codes, users, bots,
sessions, fault rules, seed files, reset.
"""

import json
import os
import shutil
import subprocess
import threading
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass


class AdminError(Exception):
    """The admin API refused a request: `status` and its error text."""

    def __init__(self, status, message):
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


@dataclass
class Session:
    """A logged-in auth key the server made for a user (`create_session`)."""

    auth_key: bytes
    auth_key_id: str
    user_id: int
    dc: int
    host: str
    port: int
    bot: bool


def find_binary():
    """`MTPROTO_AUTH_BIN`, else `mtproto-auth` on PATH, else this checkout's release or debug
    build."""
    explicit = os.environ.get("MTPROTO_AUTH_BIN")
    if explicit:
        return explicit
    on_path = shutil.which("mtproto-auth")
    if on_path:
        return on_path
    here = os.path.dirname(os.path.abspath(__file__))
    for up in range(2, 6):
        root = os.path.abspath(os.path.join(here, *[".."] * up))
        for profile in ("release", "debug"):
            candidate = os.path.join(root, "target", profile, "mtproto-auth")
            if os.path.exists(candidate):
                return candidate
    raise RuntimeError(
        "no mtproto-auth binary: set MTPROTO_AUTH_BIN, put it on PATH, or "
        "`cargo build --release` in the mtproto-auth checkout"
    )


class MtprotoAuthServer:
    """A running ephemeral server (`start`), stopped by `stop` or as a context manager."""

    def __init__(self, process, ready):
        self.process = process
        self.ready = ready
        self.dcs = {d["id"]: (d["host"], d["port"]) for d in ready["dcs"]}
        self.public_key_pem = ready["public_key_pem"]
        self.fingerprint = ready["signed_fingerprint"]
        self.admin_url = "http://" + ready["admin_http"]
        self._stderr = []
        threading.Thread(target=self._drain, daemon=True).start()

    @classmethod
    def start(cls, binary=None, dcs=3, extra_args=(), timeout=30):
        binary = binary or find_binary()
        args = [
            binary, "serve", "--ephemeral", "--listen", "127.0.0.1:0",
            "--admin-http", "127.0.0.1:0", "--dcs", str(dcs), *extra_args,
        ]
        process = subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        line = [None]

        def read():
            line[0] = process.stdout.readline()

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        reader.join(timeout)
        if not line[0]:
            process.kill()
            raise RuntimeError(
                f"{binary} did not say it was listening within {timeout} s: "
                + process.stderr.read()[-2000:]
            )
        return cls(process, json.loads(line[0]))

    def _drain(self):
        # The server logs to stderr; keep the tail for failure reports, never block it.
        for line in self.process.stderr:
            self._stderr.append(line)
            del self._stderr[:-200]

    def log_tail(self):
        return "".join(self._stderr)

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    # The admin API.

    def request(self, verb, path, /, timeout=30, **params):
        """One admin request; its JSON answer. Parameters are form-encoded; `None` ones are
        left out."""
        data = urllib.parse.urlencode(
            {k: v for k, v in params.items() if v is not None}
        )
        url = self.admin_url + path
        body = None
        if verb == "GET":
            url += "?" + data if data else ""
        else:
            body = data.encode()
        req = urllib.request.Request(url, data=body, method=verb)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                text = r.read().decode()
        except urllib.error.HTTPError as e:
            text = e.read().decode()
            try:
                message = json.loads(text).get("error", text)
            except ValueError:
                message = text
            raise AdminError(e.code, message) from None
        return json.loads(text) if r.headers.get_content_type() == "application/json" else text

    def health(self):
        return self.request("GET", "/health")

    def codes(self, phone=None, email=None):
        """Every kept delivery (login codes and emails), oldest first."""
        return self.request("GET", "/codes", phone=phone, email=email)["codes"]

    def code(self, phone, timeout=10):
        """The newest login code sent to `phone`, waiting up to `timeout` s for one."""
        return self._code(timeout, phone=phone)

    def email_code(self, address, timeout=10):
        """The newest code mailed to `address`, waiting up to `timeout` s for one."""
        return self._code(timeout, email=address)

    def _code(self, timeout, **who):
        sent = self.request("GET", "/codes", limit=1, **who)["codes"]
        if sent:
            return sent[-1]["code"]
        return self.next_code(timeout=timeout, after=0, **who)

    def next_code(self, phone=None, email=None, timeout=10, after=None):
        """The first code sent after the one numbered `after` (default: the next to arrive)."""
        answer = self.request(
            "GET", "/codes", phone=phone, email=email, after=after,
            wait=int(timeout), timeout=timeout + 10,
        )
        return answer["codes"][0]["code"]

    def reset(self, user=None):
        """Forgets every user, key, session, code, counter and fault rule (or one user)."""
        self.request("POST", "/reset", user=user)

    def users(self):
        return self.request("GET", "/users")

    def create_user(self, phone, first_name="Test", last_name="", password=None,
                    login_email=None, dc=None):
        """A user that logs in with its code (and `password`, if given); its id and DC."""
        return self.request(
            "POST", "/users", phone=phone, first_name=first_name, last_name=last_name,
            password=password, login_email=login_email, dc=dc,
        )

    def create_bot(self, name, username=None, dc=None):
        """A bot; the answer holds its token."""
        return self.request("POST", "/bots", name=name, username=username, dc=dc)

    def create_session(self, user, dc=None):
        """A logged-in auth key for `user` (a client started with it is signed in)."""
        s = self.request("POST", "/sessions", user=user, dc=dc)
        return Session(
            auth_key=bytes.fromhex(s["auth_key"]), auth_key_id=s["auth_key_id"],
            user_id=s["user_id"], dc=s["dc"], host=s["host"], port=s["port"], bot=s["bot"],
        )

    def sessions(self, user=None):
        return self.request("GET", "/sessions", user=user)

    def end_sessions(self, user=None, key=None):
        return self.request("DELETE", "/sessions", user=user, key=key)

    def add_fault(self, method, error=None, code=None, delay_ms=None, drop=False,
                  times=None, fraction=None):
        """For calls of `method` (`*`: all): answer `error`, hold the answer `delay_ms`, or
        drop the connection; for the next `times` calls or a `fraction` of them. Its id."""
        return self.request(
            "POST", "/faults", method=method, error=error, code=code, delay_ms=delay_ms,
            drop="1" if drop else None, times=times, fraction=fraction,
        )["id"]

    def faults(self):
        return self.request("GET", "/faults")

    def clear_faults(self, rule=None):
        return self.request("DELETE", "/faults", id=rule)["cleared"]

    def seed(self, toml_text):
        """Applies a seed file's text (users, bots, sessions); its report."""
        return self.request("POST", "/seed", seed=toml_text)["report"]

    def metrics(self):
        return self.request("GET", "/metrics")
