#!/usr/bin/python3
"""A local AGCOD (Amazon Incentives API) emulator, over real HTTPS on 127.0.0.1.

It behaves as Amazon's Incentives API documentation describes the service:

* verifies every SigV4 signature with its own code (tests/lib/sigv4ref.py,
  not agcod's), answers 403 for an unknown key, a wrong region or service,
  a bad signature, or an x-amz-date more than 15 minutes off its clock;
* checks x-amz-target, content-type and accept;
* keeps state (funds, cards, balance loads, activations), is idempotent on
  request ids, enforces the 15-minute cancel window (shorter on demand);
* allows 10 requests a second per partner (1 for GetAvailableFunds) and
  answers a throttling body past that;
* answers Amazon's sandbox mock ids (F0000, F2005, F4000 -> RESEND, ...);
* injects faults on demand: RESEND n times, throttle n times (also in the
  errorCode "Throttled" shape), a delay, a connection dropped after
  processing, a truncated body, an HTML 500, the gateway's refusals that
  prove nothing was done (REFUSAL_FAULTS); and
  faults that act then answer badly, for every operation (ACTED_FAULTS: a
  broken 200 body, an HTML 500 or 502, a JSON 5xx without an AGCOD status,
  a proxy's HTML 400, 404 or 413, after the request was processed);
* logs every request it received, for tests to inspect.

Used two ways: tests start it in-process (Emulator(...).start()), and
operators run it as a program to try agcod or test cron scripts offline:

    /usr/bin/python3 tests/emulator/agcod_emulator.py --dir /tmp/emu

which writes /tmp/emu/config.ini (a ready agcod profile, mode 0600) and
/tmp/emu/ca.pem, prints the endpoint, and serves until interrupted.  With
--port, --secret and --write-profile FILE, a restart keeps FILE working: the
same endpoint, secret and CA (kept in --dir).
"""
import argparse
import datetime
import decimal
import http.server
import json
import os
import re
import secrets
import socket
import ssl
import string
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import sigv4ref  # noqa: E402

D = decimal.Decimal
TARGET = "com.amazonaws.agcod.AGCODService."
OPERATIONS = {
    "CreateGiftCard": "creationRequestId",
    "CancelGiftCard": "creationRequestId",
    "GetAvailableFunds": None,
    "LoadAmazonBalance": "loadBalanceRequestId",
    "VoidAmazonBalanceLoad": "loadBalanceRequestId",
    "ActivateGiftCard": "activationRequestId",
    "DeactivateGiftCard": "activationRequestId",
    "ActivationStatusCheck": "statusCheckRequestId",
}
RESPONSE_TYPE = "%sResponse:http://internal.amazon.com/coral/com.amazonaws.agcod/"

# the sandbox's mock request ids -> (errorCode, errorType, message, status)
MOCKS = {
    "F1000": ("F100", "GeneralError", "General Error", "FAILURE"),
    "F2000": ("F200", "InvalidRequestInput", "Request body is null", "FAILURE"),
    "F2001": ("F200", "InvalidCardNumberInput", "Card number can't be null or empty", "FAILURE"),
    "F2002": ("F200", "InvalidPartnerIdInput", "Partner Id can't be null or empty", "FAILURE"),
    "F2003": ("F200", "InvalidAmountInput", "Amount can't be null", "FAILURE"),
    "F2004": ("F200", "InvalidAmountValue", "Amount must be larger than 0", "FAILURE"),
    "F2005": ("F200", "InvalidCurrencyCodeInput", "Currency Code can't be null or empty", "FAILURE"),
    "F2010": ("F200", "CardAlreadyActivatedWithDifferentRequestId",
              "The card was already activated with a different request id", "FAILURE"),
    "F2015": ("F200", "MaxAmountExceeded", "Max Amount Exceeded", "FAILURE"),
    "F2016": ("F200", "CurrencyCodeMismatch", "Currency Code Mismatch", "FAILURE"),
    "F2017": ("F200", "FractionalAmountNotAllowed", "Fractional Amount Not Allowed", "FAILURE"),
    "F2047": ("F200", "CancelRequestArrivedAfterTimeLimit",
              "Cancel request arrived after the time limit of 15 minutes", "FAILURE"),
    "F3003": ("F300", "InsufficientFunds", "Insufficient Funds", "FAILURE"),
    "F3005": ("F300", "GeneralError", "General Error", "FAILURE"),
    "F3010": ("F300", "CustomerSurpassedDailyVelocityLimit",
              "Customer has exceeded daily velocity limit", "FAILURE"),
    "F4000": ("F400", "SystemTemporarilyUnavailable", "System Temporarily Unavailable", "RESEND"),
    "F5000": ("F500", "GeneralError", "General Error", "FAILURE"),
}
EXPONENT = {"JPY": 0}
MAX_CARD = {"JPY": D("200000")}
DEFAULT_MAX_CARD = D("2000")


# Faults that ACT, then answer badly: the request is processed as usual (a
# card issued, funds debited, a load made), then the answer is replaced by
# one that proves nothing.  fault kind -> (processed body, fault) ->
# (status, body, content type).  "drop" (connection closed after processing)
# is the fifth such fault.
ACTED_FAULTS = {
    # a 200 whose JSON is cut short (complete HTTP, broken body)
    "acted_broken200": lambda body, f: (200, body[: len(body) // 2], "application/json"),
    "acted_html500": lambda body, f: (
        500, "<html><head><title>500 Internal Server Error</title></head>"
             "<body>upstream failed</body></html>", "text/html"),
    "acted_html502": lambda body, f: (
        502, "<html><head><title>502 Bad Gateway</title></head>"
             "<body><center>502 Bad Gateway</center></body></html>", "text/html"),
    # a JSON 5xx from a gateway, without an AGCOD status
    "acted_json5xx": lambda body, f: (
        f.get("status", 503), json.dumps({"message": "Service Unavailable"}),
        "application/json"),
    # a proxy's 4xx page after the service acted (issue 18): proves nothing
    "acted_html400": lambda body, f: (
        400, "<html><head><title>400 Bad Request</title></head></html>", "text/html"),
    "acted_html404": lambda body, f: (
        404, "<html><head><title>404 Not Found</title></head></html>", "text/html"),
    "acted_html413": lambda body, f: (
        413, "<html><head><title>413 Request Entity Too Large</title></head></html>",
        "text/html"),
}

# Answers that refuse WITHOUT acting: fault kind -> (status, body, content
# type).  The gateway's refusals prove the request was not understood;
# "throttled_code" is throttling in the newest error page's errorCode shape.
REFUSAL_FAULTS = {
    "gw_not_json_type": (400, json.dumps(
        {"Message": "class java.lang.String is not an expected Json type"}),
        "application/json"),
    "gw_unknown_operation": (400, json.dumps(
        {"__type": "com.amazon.coral.service#UnknownOperationException",
         "message": None}), "application/json"),
    "gw_unsupported_media": (415, json.dumps(
        {"__type": "UnsupportedMediaTypeException",
         "message": "content-type must be application/json"}), "application/json"),
    "throttled_code": (400, json.dumps(
        {"errorCode": "Throttled", "errorType": "ThrottlingException",
         "message": "Rate exceeded"}), "application/json"),
    # a proxy's page, nothing forwarded: agcod cannot tell, so unknown
    "html400": (400, "<html><head><title>400 Bad Request</title></head></html>",
                "text/html"),
}


class AgcodError(Exception):
    def __init__(self, code, etype, message, status="FAILURE"):
        super().__init__(message)
        self.code, self.etype, self.message, self.status = code, etype, message, status


def make_certificates(directory, san="IP:127.0.0.1,DNS:localhost"):
    """A CA and a server certificate for 127.0.0.1 and localhost (openssl)."""
    def run(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True,
                       timeout=60)
    p = lambda name: os.path.join(directory, name)  # noqa: E731
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        "-subj", "/CN=agcod emulator test CA", "-keyout", p("ca.key"),
        "-out", p("ca.pem"), "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    run("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
        "-keyout", p("server.key"), "-out", p("server.csr"))
    with open(p("ext.cnf"), "w") as f:
        f.write(f"subjectAltName={san}\n"
                "extendedKeyUsage=serverAuth\n")
    run("x509", "-req", "-in", p("server.csr"), "-CA", p("ca.pem"),
        "-CAkey", p("ca.key"), "-CAcreateserial", "-days", "2",
        "-extfile", p("ext.cnf"), "-out", p("server.pem"))
    return p("ca.pem"), p("server.pem"), p("server.key")


def java_double(amount):
    """A Decimal as Java's Double.toString prints it: 0.0, 1000.0, 19.99, and
    from 10^7 up (or under 10^-3) in exponent form: 1.0E7, 1.2345678E7, 1.5E-2."""
    a = D(amount)
    if a == 0:
        return "0.0"
    sign, mag = ("-" if a < 0 else ""), abs(a)
    if D("0.001") <= mag < D("10000000"):
        t = format(mag.normalize(), "f")
        return sign + (t if "." in t else t + ".0")
    digits = mag.normalize().as_tuple().digits
    exp = mag.adjusted()
    frac = "".join(map(str, digits[1:])) or "0"
    return f"{sign}{digits[0]}.{frac}E{exp}"


def money(amount, currency=None):
    """A Decimal printed as AGCOD prints amounts: 1000.0, 19.99, 1.0E7."""
    a = D(amount)
    if a != 0 and not D("0.001") <= abs(a) < D("10000000"):
        return JavaNumber(java_double(a))
    return a if "." in str(a) else D(str(a) + ".0")


class JavaNumber:
    """Number text sent as is (a JSON number, not a string)."""

    def __init__(self, text):
        self.text = text

    def __str__(self):
        return self.text

    def __eq__(self, other):
        return str(self) == str(other)


def dumps(obj):
    """json.dumps with Decimals as exact JSON numbers, never binary floats."""
    text = json.dumps(obj, default=lambda d: f"@@DEC:{d}@@")
    return re.sub(r'"@@DEC:([-0-9.E]+)@@"', r"\1", text)


class State:
    def __init__(self, partner, currency, funds):
        self.partner = partner
        self.currency = currency
        self.funds = D(funds)
        self.cards = {}        # creationRequestId -> card
        self.loads = {}        # loadBalanceRequestId -> load
        self.activations = {}  # cardNumber -> activation
        self.creates = 0       # cards actually issued (debits)


class Emulator:
    def __init__(self, certs, partner="Acme1", access_key_id="AKIDEMULATOR",
                 secret="emulator/secret+key", region="us-east-1",
                 currency="USD", funds="100000.00", cancel_window=900,
                 clock_offset=0, max_rps=10, extra_fields=None):
        self.ca, self.cert, self.key = certs
        self.keys = {access_key_id: secret}
        self.region = region
        self.state = State(partner, currency, funds)
        self.cancel_window = cancel_window
        self.clock_offset = clock_offset
        self.max_rps = max_rps
        self.extra_fields = extra_fields or {}
        # a reseller account: programId required on Create/Activate, one of these
        self.program_ids = None
        # product vouchers this account may issue (productType); None: any
        self.product_types = None
        # activation request ids answered RESEND (never processed): a
        # DeactivateGiftCard with the same id settles them
        self.resent_activations = set()
        self.faults = []       # [{"kind":..., "count": n, "op": name|None, ...}]
        self.log = []
        self.lock = threading.RLock()
        self.recent = []       # times of accepted requests (rate window)
        self.recent_funds = []
        self.connections = 0
        self.throttled = 0
        self.server = None
        self.thread = None
        self.on_request = None  # tests: called with each log entry on arrival

    # ---- control ----

    def now(self):
        return time.time() + self.clock_offset

    def fault(self, kind, count=1, op=None, **kw):
        with self.lock:
            self.faults.append(dict(kind=kind, count=count, op=op, **kw))

    def _take_fault(self, op):
        with self.lock:
            for f in self.faults:
                if f["count"] > 0 and (f["op"] is None or f["op"] == op):
                    f["count"] -= 1
                    return f
        return None

    @property
    def port(self):
        return self.server.server_address[1]

    @property
    def endpoint(self):
        return f"https://127.0.0.1:{self.port}"

    def start(self, port=0):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(self.cert, self.key)
        emu = self

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True
            allow_reuse_address = True

            def get_request(self):
                sock, addr = self.socket.accept()
                with emu.lock:
                    emu.connections += 1
                return sock, addr

        self.server = Server(("127.0.0.1", port), make_handler(self))
        self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True,
                                             do_handshake_on_connect=False)
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def requests(self, op=None):
        with self.lock:
            return [r for r in self.log if op is None or r["op"] == op]

    # ---- rate limit ----

    def _throttle(self, op):
        """True when this request is over the partner's rate."""
        with self.lock:
            t = time.monotonic()
            self.recent = [x for x in self.recent if t - x < 1.0]
            if len(self.recent) >= self.max_rps:
                self.throttled += 1
                return True
            if op == "GetAvailableFunds":
                self.recent_funds = [x for x in self.recent_funds if t - x < 1.0]
                if self.recent_funds:
                    self.throttled += 1
                    return True
                self.recent_funds.append(t)
            self.recent.append(t)
            return False

    # ---- authentication (403s, as the AWS front end answers) ----

    def authenticate(self, method, path, query, headers, body):
        """headers: list of (name, value). Returns None or (status, type, message)."""
        lower = {}
        for n, v in headers:
            lower.setdefault(n.lower(), []).append(v)
        authz = (lower.get("authorization") or [None])[0]
        if not authz:
            return (403, "MissingAuthenticationTokenException", "Missing Authentication Token")
        a = sigv4ref.parse_authorization(authz)
        if a is None:
            return (403, "IncompleteSignatureException",
                    "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature'")
        if a["key_id"] not in self.keys:
            return (403, "UnrecognizedClientException",
                    "The security token included in the request is invalid.")
        if "host" not in a["signed_headers"] or "x-amz-date" not in a["signed_headers"]:
            return (403, "InvalidSignatureException",
                    "'Host' and 'X-Amz-Date' must be signed")
        amz_date = (lower.get("x-amz-date") or [""])[0].strip()
        try:
            t = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(
                tzinfo=datetime.timezone.utc).timestamp()
        except ValueError:
            return (403, "IncompleteSignatureException", f"Date must be in ISO-8601 'basic format'. Got '{amz_date}'.")
        now = self.now()
        if abs(now - t) > 15 * 60:
            nows = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))
            if t < now:
                msg = (f"Signature expired: {amz_date} is now earlier than "
                       f"{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime(now - 900))} ({nows} - 15 min.)")
            else:
                msg = (f"Signature not yet current: {amz_date} is still later than "
                       f"{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime(now + 900))} ({nows} + 15 min.)")
            return (403, "InvalidSignatureException", msg)
        if a["date"] != amz_date[:8]:
            return (403, "InvalidSignatureException",
                    f"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{a['date']}' != '{amz_date[:8]}'")
        if a["region"] != self.region:
            return (403, "InvalidSignatureException",
                    f"Credential should be scoped to a valid region, not '{a['region']}'. ")
        if a["service"] != "AGCODService":
            return (403, "InvalidSignatureException",
                    f"Credential should be scoped to correct service: 'AGCODService'. ")
        signed = [(n, v) for n, v in headers if n.lower() in a["signed_headers"]]
        ref = sigv4ref.sign(method, path, query, signed, body, a["key_id"],
                            self.keys[a["key_id"]], a["region"], a["service"], amz_date)
        if ref["signature"] != a["signature"]:
            return (403, "InvalidSignatureException",
                    "The request signature we calculated does not match the signature you provided. "
                    "Check your AWS Secret Access Key and signing method. Consult the service "
                    "documentation for details.\n\nThe Canonical String for this request should have been\n'"
                    + ref["canonical_request"] + "'\n\nThe String-to-Sign should have been\n'"
                    + ref["string_to_sign"] + "'\n")
        return None

    # ---- operations ----

    def handle_op(self, op, req):
        """Returns the response object; raises AgcodError."""
        st = self.state
        id_field = OPERATIONS[op]
        rid = req.get(id_field) if id_field else None
        if req.get("partnerId") != st.partner:
            raise AgcodError("F200", "InvalidPartnerIdInput", "Partner Id can't be null or empty"
                             if not req.get("partnerId") else "Invalid partner id")
        if id_field:
            if not isinstance(rid, str) or not rid:
                raise AgcodError("F200", "InvalidRequestIdInput", "Request id can't be null or empty")
            if rid in MOCKS:
                code, etype, msg, status = MOCKS[rid]
                raise AgcodError(code, etype, msg, status)
            if rid == "F0000":
                return self.mock_success(op, req)
            if len(rid) > 40:
                raise AgcodError("F200", "RequestIdTooLong", "Request id is too long")
            if not rid.startswith(st.partner):
                raise AgcodError("F200", "RequestIdMustStartWithPartnerName",
                                 "Request id must start with the partner name")
        return getattr(self, "op_" + op)(req, rid)

    def mock_success(self, op, req):
        out = {OPERATIONS[op]: "F0000", "status": "SUCCESS"}
        if op == "CreateGiftCard":
            v = req.get("value") or {}
            out.update({"cardInfo": {"cardNumber": None, "cardStatus": "Fulfilled",
                                     "expirationDate": None, "value": v},
                        "gcClaimCode": "ZYXW-VUTS-RQPO", "gcExpirationDate": None,
                        "gcId": "ABC123ZYX987"})
        return out

    def _value(self, v, key="amount"):
        if not isinstance(v, dict):
            raise AgcodError("F200", "InvalidAmountInput", "Amount can't be null")
        cur = v.get("currencyCode")
        if not cur:
            raise AgcodError("F200", "InvalidCurrencyCodeInput", "Currency Code can't be null or empty")
        amt = v.get(key)
        if amt is None:
            raise AgcodError("F200", "InvalidAmountInput", "Amount can't be null")
        try:
            amt = D(str(amt))
        except decimal.InvalidOperation:
            raise AgcodError("F200", "InvalidAmountInput", "Amount is not a number")
        if amt <= 0:
            raise AgcodError("F200", "InvalidAmountValue", "Amount must be larger than 0")
        if cur != self.state.currency:
            raise AgcodError("F200", "CurrencyCodeMismatch", "Currency Code Mismatch")
        if EXPONENT.get(cur, 2) == 0 and amt != amt.to_integral_value():
            raise AgcodError("F200", "FractionalAmountNotAllowed", "Fractional Amount Not Allowed")
        if amt > MAX_CARD.get(cur, DEFAULT_MAX_CARD):
            raise AgcodError("F200", "MaxAmountExceeded", "Max Amount Exceeded")
        return cur, amt

    def _program_and_product(self, req):
        """programId (resellers) and productType (product vouchers)."""
        pid, ptype = req.get("programId"), req.get("productType")
        if pid is not None and not (isinstance(pid, str) and pid.isalnum()
                                    and len(pid) <= 100):
            raise AgcodError("F200", "InvalidProgramId", "Invalid program id")
        if self.program_ids is not None:
            if not pid:
                raise AgcodError("F200", "ProgramIdNotPresent",
                                 "Program id is required for this partner")
            if pid not in self.program_ids:
                raise AgcodError("F300", "ProgramIsNotApproved",
                                 "The program is not approved")
        if ptype is not None:
            if not (isinstance(ptype, str) and ptype.isalnum() and len(ptype) <= 50):
                raise AgcodError("F200", "BadInput", "Invalid product type")
            if self.product_types is not None and ptype not in self.product_types:
                raise AgcodError("F300", "OperationNotPermitted",
                                 "The product type is not enabled for this partner")

    def _debit(self, amt):
        if amt > self.state.funds:
            raise AgcodError("F300", "InsufficientFunds", "Insufficient Funds")
        self.state.funds -= amt

    def op_CreateGiftCard(self, req, rid):
        st = self.state
        cur, amt = self._value(req.get("value"))
        self._program_and_product(req)
        card = st.cards.get(rid)
        if card:
            if card["amount"] != amt or card["currency"] != cur:
                raise AgcodError("F200", "RequestedDenominationMismatch",
                                 "The request id was used with a different amount")
            return self._card_response(card)
        self._debit(amt)
        alphabet = string.ascii_uppercase + string.digits
        code = "-".join("".join(secrets.choice(alphabet) for _ in range(n)) for n in (4, 6, 4))
        card = {"id": rid, "gcId": "".join(secrets.choice(alphabet) for _ in range(14)),
                "claim": code, "amount": amt, "currency": cur, "created": self.now(),
                "status": "Fulfilled", "extref": req.get("externalReference")}
        st.cards[rid] = card
        st.creates += 1
        return self._card_response(card)

    def _card_response(self, card):
        out = {"cardInfo": {"cardNumber": None, "cardStatus": card["status"],
                            "expirationDate": None,
                            "value": {"amount": money(card["amount"], card["currency"]),
                                      "currencyCode": card["currency"]}},
               "creationRequestId": card["id"], "gcClaimCode": card["claim"],
               "gcExpirationDate": None, "gcId": card["gcId"], "status": "SUCCESS"}
        out.update(self.extra_fields)
        return out

    def op_CancelGiftCard(self, req, rid):
        card = self.state.cards.get(rid)
        if card is None:
            raise AgcodError("F200", "InvalidRequestIdInput", "No card was created with this request id")
        if req.get("gcId") is not None and req.get("gcId") != card["gcId"]:
            raise AgcodError("F200", "InvalidGCIdInput", "The gcId does not match the request id")
        if card["status"] != "RefundedToPurchaser":
            if self.now() - card["created"] > self.cancel_window:
                raise AgcodError("F200", "CancelRequestArrivedAfterTimeLimit",
                                 "Cancel request arrived after the time limit of 15 minutes")
            card["status"] = "RefundedToPurchaser"
            self.state.funds += card["amount"]
        return {"creationRequestId": rid, "gcId": card["gcId"], "status": "SUCCESS"}

    def op_GetAvailableFunds(self, req, rid):
        return {"availableFunds": {"amount": money(self.state.funds, self.state.currency),
                                   "currencyCode": self.state.currency},
                "status": "SUCCESS",
                "timestamp": time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(self.now()))}

    def _load_fields(self, req):
        cur, amt = self._value(req.get("amount"), key="value")
        acct = req.get("account") or {}
        if not acct.get("id"):
            raise AgcodError("F200", "InvalidAccountInput", "Account id can't be null or empty")
        return cur, amt, acct

    def op_LoadAmazonBalance(self, req, rid):
        cur, amt, acct = self._load_fields(req)
        load = self.state.loads.get(rid)
        if load is None:
            self._debit(amt)
            load = {"id": rid, "amount": amt, "currency": cur, "account": acct["id"],
                    "status": "Loaded",
                    "txn": "".join(secrets.choice(string.digits) for _ in range(12))}
            self.state.loads[rid] = load
        elif load["amount"] != amt:
            raise AgcodError("F200", "RequestedDenominationMismatch",
                             "The request id was used with a different amount")
        return {"loadBalanceRequestId": rid, "amazonTransactionId": load["txn"],
                "totalAmountLoaded": {"currencyCode": cur, "value": str(amt)},
                "status": "SUCCESS"}

    def op_VoidAmazonBalanceLoad(self, req, rid):
        cur, amt, acct = self._load_fields(req)
        load = self.state.loads.get(rid)
        if load is None:
            raise AgcodError("F200", "InvalidRequestIdInput", "No load was made with this request id")
        if load["amount"] != amt or load["account"] != acct["id"]:
            raise AgcodError("F200", "InvalidAmountValue",
                             "The void must carry the amount and account of the load")
        if load["status"] != "Voided":
            load["status"] = "Voided"
            self.state.funds += amt
        return {"loadBalanceRequestId": rid, "amazonTransactionId": load["txn"],
                "status": "SUCCESS"}

    def _card_number(self, req):
        n = req.get("cardNumber")
        if not n:
            raise AgcodError("F200", "InvalidCardNumberInput", "Card number can't be null or empty")
        if not (isinstance(n, str) and n.isdigit() and len(n) == 19):
            raise AgcodError("F200", "CardNumberCheckSumError", "Card number is invalid")
        return n

    def op_ActivateGiftCard(self, req, rid):
        n = self._card_number(req)
        cur, amt = self._value(req.get("value"))
        self._program_and_product(req)
        act = self.state.activations.get(n)
        if act and act["status"] == "Activated" and act["id"] != rid:
            raise AgcodError("F200", "CardAlreadyActivatedWithDifferentRequestId",
                             "The card was already activated with a different request id")
        if not act or act["status"] != "Activated":
            self._debit(amt)
            act = {"id": rid, "amount": amt, "currency": cur, "status": "Activated"}
            self.state.activations[n] = act
        return {"activationRequestId": rid, "cardInfo": {
            "cardNumber": n, "cardStatus": act["status"],
            "value": {"amount": money(act["amount"], cur), "currencyCode": cur}},
            "status": "SUCCESS"}

    def op_DeactivateGiftCard(self, req, rid):
        n = self._card_number(req)
        act = self.state.activations.get(n)
        if (act is None or act["id"] != rid) and rid in self.resent_activations:
            # the activation under this id never happened: nothing to undo
            self.resent_activations.discard(rid)
            return {"activationRequestId": rid, "cardInfo": {
                "cardNumber": n, "cardStatus": "Deactivated"}, "status": "SUCCESS"}
        if act is None:
            raise AgcodError("F200", "CardNumberNotFound", "The card is not activated")
        if act["status"] == "Activated":
            act["status"] = "Deactivated"
            self.state.funds += act["amount"]
        return {"activationRequestId": rid, "cardInfo": {
            "cardNumber": n, "cardStatus": act["status"]}, "status": "SUCCESS"}

    def op_ActivationStatusCheck(self, req, rid):
        n = self._card_number(req)
        act = self.state.activations.get(n)
        info = {"cardNumber": n, "cardStatus": act["status"] if act else "NotActivated"}
        if act:
            info["value"] = {"amount": money(act["amount"], act["currency"]),
                             "currencyCode": act["currency"]}
        return {"statusCheckRequestId": rid, "cardInfo": info, "status": "SUCCESS"}


def make_handler(emu):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "AGCODEmulator/1.0"
        sys_version = ""
        timeout = 30

        def log_message(self, *args):
            pass

        def date_time_string(self, timestamp=None):
            return super().date_time_string(emu.now())

        def setup(self):
            try:
                self.request.do_handshake()
            except (ssl.SSLError, OSError):
                pass
            super().setup()

        def _send(self, status, body, ctype="application/json", extra=None,
                  truncate=False):
            data = body if isinstance(body, bytes) else body.encode()
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("x-amzn-RequestId", secrets.token_hex(16))
            for k, v in (extra or {}).items():
                self.send_header(k, v)
            if truncate:
                self.send_header("Content-Length", str(len(data) + 64))
                self.end_headers()
                self.wfile.write(data[: len(data) // 2])
                self.wfile.flush()
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                return
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            self._send(404, json.dumps({"message": "Not Found"}))

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            path, _, query = self.path.partition("?")
            op = path.lstrip("/")
            entry = {"time": emu.now(), "op": op, "path": self.path,
                     "headers": list(self.headers.items()), "body": body,
                     "status": None, "response": None}
            with emu.lock:
                emu.log.append(entry)
            if emu.on_request:
                emu.on_request(entry)
            status, resp, extra = self.process(op, path, query, body, entry)
            if status is None:
                return
            entry["status"], entry["response"] = status, resp
            self._send(status, resp, extra=extra.get("headers"),
                       ctype=extra.get("ctype", "application/json"),
                       truncate=extra.get("truncate", False))

        def process(self, op, path, query, body, entry):
            denied = emu.authenticate("POST", path, query, list(self.headers.items()), body)
            if denied:
                st, etype, msg = denied
                return st, json.dumps({"__type": etype, "message": msg}), {
                    "headers": {"x-amzn-ErrorType": etype}}
            if op not in OPERATIONS:
                return 400, json.dumps({"__type": "UnknownOperationException"}), {}
            if self.headers.get("x-amz-target") != TARGET + op:
                return 400, json.dumps({"__type": "UnknownOperationException",
                                        "message": "x-amz-target does not match the path"}), {}
            for h in ("content-type", "accept"):
                if (self.headers.get(h) or "").split(";")[0].strip() != "application/json":
                    return 415, json.dumps({"__type": "UnsupportedMediaTypeException",
                                            "message": f"{h} must be application/json"}), {}
            f = emu._take_fault(op)
            kind = f["kind"] if f else None
            if kind == "throttle" or (kind is None and emu._throttle(op)):
                if kind == "throttle":
                    with emu.lock:
                        emu.throttled += 1
                entry["throttled"] = True
                return 400, json.dumps({"__type": "ThrottlingException",
                                        "message": "Rate exceeded"}), {}
            if kind == "throttle_xml":
                return 400, ("<ThrottlingException><Message>Rate exceeded</Message>"
                             "</ThrottlingException>"), {"ctype": "text/xml"}
            if kind in REFUSAL_FAULTS:
                if kind == "throttled_code":
                    entry["throttled"] = True
                st, text, ctype = REFUSAL_FAULTS[kind]
                return st, text, {"ctype": ctype}
            if kind == "html500":
                return 500, ("<html><head><title>500 Internal Server Error</title></head>"
                             "<body>upstream failed</body></html>"), {"ctype": "text/html"}
            if kind == "resend":
                if op == "ActivateGiftCard":
                    try:
                        rid = json.loads(body).get("activationRequestId")
                    except (ValueError, AttributeError):
                        rid = None
                    with emu.lock:
                        emu.resent_activations.add(rid)
                code, etype, msg, status = MOCKS["F4000"]
                return 400, self.error_body(op, code, etype, msg, status), {}
            if kind == "delay":
                time.sleep(f.get("seconds", 2))
            try:
                req = json.loads(body, parse_float=D) if body else None
            except ValueError:
                req = None
            if not isinstance(req, dict):
                return 400, self.error_body(op, "F200", "InvalidRequestInput",
                                            "Request body is null"), {}
            with emu.lock:
                try:
                    resp = dumps(emu.handle_op(op, req))
                    status = 200
                except AgcodError as e:
                    resp = self.error_body(op, e.code, e.etype, e.message, e.status)
                    status = 400 if e.code != "F500" and e.code != "F100" else 500
            if kind == "drop":
                # processed, but the answer never arrives
                entry["status"] = "dropped"
                entry["acted"] = True
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                return None, None, None
            if kind in ACTED_FAULTS:
                # processed (card issued, funds moved), then a bad answer
                entry["acted"] = True
                st, text, ctype = ACTED_FAULTS[kind](resp, f)
                return st, text, {"ctype": ctype}
            if kind == "truncate":
                return status, resp, {"truncate": True}
            if kind == "garbage":
                return 200, b"\x00\xffnot json at all{{{", {"ctype": "application/octet-stream"}
            return status, resp, {}

        def error_body(self, op, code, etype, msg, status="FAILURE"):
            inner = {"__type": RESPONSE_TYPE % op, "status": status}
            if OPERATIONS.get(op):
                inner[OPERATIONS[op]] = None
            return json.dumps({"agcodResponse": inner, "errorCode": code,
                               "errorType": etype, "message": msg})

    return Handler


def lasting_certificates(directory):
    """The CA and server certificate kept in directory, made once: a profile
    written against them keeps working after a restart (a new pair only
    when they are missing or expire within a day)."""
    names = ("ca.pem", "server.pem", "server.key")
    paths = [os.path.join(directory, n) for n in names]
    if all(os.path.exists(p) for p in paths) and subprocess.run(
            ["openssl", "x509", "-checkend", "86400", "-noout", "-in", paths[1]],
            capture_output=True, timeout=60).returncode == 0:
        return tuple(paths)
    return make_certificates(directory)


def write_private(path, text):
    """text into path, mode 0600 even if the file was there with another"""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)


def main():
    ap = argparse.ArgumentParser(
        description="Local AGCOD emulator over HTTPS on 127.0.0.1",
        epilog="With the same --dir, --port and --secret, a restart keeps the "
        "profile it wrote working (same endpoint, secret and CA).")
    ap.add_argument("--dir", help="where to keep the CA (ca.pem) and write "
                    "config.ini; default: a new temporary directory")
    ap.add_argument("--port", type=int, default=0,
                    help="port on 127.0.0.1 (default: any free port)")
    ap.add_argument("--secret", help="the test secret key of AKIDEMULATOR "
                    "(default: a new random one each start)")
    ap.add_argument("--write-profile", metavar="FILE",
                    help="also write a ready agcod profile to FILE (mode 0600)")
    ap.add_argument("--partner", default="Acme1")
    ap.add_argument("--currency", default="USD")
    ap.add_argument("--funds", default="10000.00")
    ap.add_argument("--cancel-window", type=int, default=900)
    ap.add_argument("--clock-offset", type=int, default=0)
    ap.add_argument("--ready-file", help="write the port here once serving")
    a = ap.parse_args()
    directory = a.dir or tempfile.mkdtemp(prefix="agcod-emu-")
    os.makedirs(directory, mode=0o700, exist_ok=True)
    certs = lasting_certificates(directory)
    ca = os.path.abspath(certs[0])
    secret = a.secret or secrets.token_urlsafe(30)
    emu = Emulator(certs, partner=a.partner, currency=a.currency, funds=a.funds,
                   secret=secret, cancel_window=a.cancel_window,
                   clock_offset=a.clock_offset).start(a.port)
    profile = (f"# agcod profile for the local emulator\n[default]\n"
               f"partner_id = {a.partner}\naccess_key_id = AKIDEMULATOR\n"
               f"secret_access_key = {secret}\nregion = na\nenvironment = sandbox\n"
               f"currency = {a.currency}\nendpoint = {emu.endpoint}\nca_bundle = {ca}\n")
    cfg = os.path.join(directory, "config.ini")
    write_private(cfg, profile)
    if a.write_profile:
        write_private(a.write_profile, profile)
        cfg = os.path.abspath(a.write_profile)
    if a.ready_file:
        with open(a.ready_file + ".tmp", "w") as f:
            f.write(str(emu.port))
        os.rename(a.ready_file + ".tmp", a.ready_file)
    print(f"agcod emulator at {emu.endpoint}; profile: AGCOD_CONFIG={cfg}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        emu.stop()


if __name__ == "__main__":
    main()
