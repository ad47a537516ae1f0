"""ControlService's connections and variables RPCs.

Reads come from the coordinator's decrypted copy in memory (coordinator/secrets.py); changes
are written on the metastore writer thread before they are answered, and the access interceptor
(coordinator/auth.py) records each in the audit log by RPC name. A list never carries a
password, an extra or a sensitive variable's value; TestConnection's answer is masked.
"""

from __future__ import annotations

from typing import Any

from coordinator.engine import Engine
from coordinator.secrets import Secrets
from coordinator.validation import required
from tradewind.connections import Connection, from_pb, to_pb
from tradewind.exceptions import InvalidArgument, NotFound, TradewindError
from tradewind.secrets_masker import MASK, is_sensitive
from tradewind.v1 import common_pb2, control_pb2

#: Seconds a worker has to open a connection under test and answer.
TEST_TIMEOUT = 30.0


def connection_from_pb(pb: common_pb2.Connection) -> Connection:
    try:
        return from_pb(pb)
    except TradewindError as exc:
        raise InvalidArgument(str(exc)) from None


def hidden_pb(connection: Connection) -> common_pb2.Connection:
    """A connection as lists show it: password and extra as *** when set."""
    pb = to_pb(connection)
    pb.password = MASK if connection.password else ""
    pb.extra = MASK if connection.extra else ""
    return pb


class SecretsRpcs:
    engine: Engine

    @property
    def secrets(self) -> Secrets:
        return self.engine.secrets

    def _stored(self, conn_id: str) -> Connection:
        found = self.secrets.connection(required(conn_id, "conn_id"))
        if found is None:
            raise NotFound(f"connection {conn_id!r} not found")
        return found

    # ---- connections --------------------------------------------------------------------
    async def ListConnections(
        self, request: control_pb2.ListConnectionsRequest, context: Any
    ) -> control_pb2.ListConnectionsResponse:
        return control_pb2.ListConnectionsResponse(connections=[hidden_pb(c) for c in self.secrets.connections()])

    async def GetConnection(
        self, request: control_pb2.GetConnectionRequest, context: Any
    ) -> control_pb2.GetConnectionResponse:
        found = self._stored(request.conn_id)
        pb = to_pb(found) if request.reveal else hidden_pb(found)
        return control_pb2.GetConnectionResponse(connection=pb)

    async def SetConnection(
        self, request: control_pb2.SetConnectionRequest, context: Any
    ) -> control_pb2.SetConnectionResponse:
        connection = connection_from_pb(request.connection)
        await self.engine.write_secrets(self.secrets.set_connection, connection)
        return control_pb2.SetConnectionResponse(connection=hidden_pb(connection))

    async def DeleteConnection(
        self, request: control_pb2.DeleteConnectionRequest, context: Any
    ) -> control_pb2.DeleteConnectionResponse:
        conn_id = required(request.conn_id, "conn_id")
        if not await self.engine.write_secrets(self.secrets.delete_connection, conn_id):
            raise NotFound(f"connection {conn_id!r} not found")
        return control_pb2.DeleteConnectionResponse()

    async def TestConnection(
        self, request: control_pb2.TestConnectionRequest, context: Any
    ) -> control_pb2.TestConnectionResponse:
        """Opens the connection from a worker, where tasks would open it (worker.proto ConnectionTest)."""
        if request.HasField("connection"):
            connection = connection_from_pb(request.connection)
        else:
            connection = self._stored(request.conn_id)
        worker, ok, message = await self.engine.test_connection(to_pb(connection), TEST_TIMEOUT)
        masked = message.replace(connection.password, MASK) if connection.password else message
        text = self.secrets.redact(masked) if ok else f"from worker {worker}: {self.secrets.redact(masked)}"
        return control_pb2.TestConnectionResponse(ok=ok, message=text)

    # ---- variables ----------------------------------------------------------------------
    async def ListVariables(
        self, request: control_pb2.ListVariablesRequest, context: Any
    ) -> control_pb2.ListVariablesResponse:
        return control_pb2.ListVariablesResponse(
            variables=[
                control_pb2.Variable(
                    key=row.key, value=MASK if is_sensitive(row.key) else row.value, description=row.description
                )
                for row in self.secrets.variables()
            ]
        )

    async def GetVariable(
        self, request: control_pb2.GetVariableRequest, context: Any
    ) -> control_pb2.GetVariableResponse:
        key = required(request.key, "key")
        row = self.secrets.variable(key)
        if row is None:
            raise NotFound(f"variable {key!r} not found")
        variable = control_pb2.Variable(key=row.key, value=row.value, description=row.description)
        return control_pb2.GetVariableResponse(variable=variable)

    async def SetVariable(
        self, request: control_pb2.SetVariableRequest, context: Any
    ) -> control_pb2.SetVariableResponse:
        variable = request.variable
        await self.engine.write_secrets(self.secrets.set_variable, variable.key, variable.value, variable.description)
        return control_pb2.SetVariableResponse()

    async def DeleteVariable(
        self, request: control_pb2.DeleteVariableRequest, context: Any
    ) -> control_pb2.DeleteVariableResponse:
        key = required(request.key, "key")
        if not await self.engine.write_secrets(self.secrets.delete_variable, key):
            raise NotFound(f"variable {key!r} not found")
        return control_pb2.DeleteVariableResponse()
