"""A messenger server on grpc-python, written the way the original course servers are: every
ReadMessages call is a generator on a queue, so its response headers go out with the first
message. Stubs are generated from messenger.proto (grpc_tools.protoc) into the working folder.

usage: python3 grpc_python_messenger.py [min_ping_interval_ms]
Prints "listening <port>" once it serves on 127.0.0.1; stops when stdin closes.
"""
import queue
import sys
import threading
from concurrent import futures

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

import messenger_pb2
import messenger_pb2_grpc


class Messenger(messenger_pb2_grpc.MessengerServerServicer):
    def __init__(self):
        self.lock = threading.Lock()
        self.queues = []

    def SendMessage(self, request, context):
        sent = Timestamp()
        sent.GetCurrentTime()
        message = messenger_pb2.ReadMessagesResponse(author=request.author, text=request.text, sendTime=sent)
        with self.lock:
            for q in self.queues:
                q.put(message)
        return messenger_pb2.SendMessageResponse(sendTime=sent)

    def ReadMessages(self, request, context):
        q = queue.Queue()
        with self.lock:
            self.queues.append(q)
        try:
            while context.is_active():
                try:
                    yield q.get(timeout=0.2)
                except queue.Empty:
                    pass
        finally:
            with self.lock:
                self.queues.remove(q)


def main():
    options = []
    if len(sys.argv) > 1:
        options.append(("grpc.http2.min_ping_interval_without_data_ms", int(sys.argv[1])))
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=32), options=options)
    messenger_pb2_grpc.add_MessengerServerServicer_to_server(Messenger(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    print(f"listening {port}", flush=True)
    sys.stdin.read()
    server.stop(0)


if __name__ == "__main__":
    main()
