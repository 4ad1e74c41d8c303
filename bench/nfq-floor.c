/* The floor for NFQUEUE throughput on this host: a minimal C consumer that accepts every
 * packet, built the way Lateral's addon is (libmnl, GSO, non-blocking drain of up to
 * BATCH packets, then one NFQNL_MSG_VERDICT_BATCH with NF_REPEAT + the repeat mark).
 * Whatever Lateral costs on top of this is the price of Node.
 *
 *   nfq-floor QUEUE [REPEAT_MARK] [BATCH]      runs until SIGINT/SIGTERM, prints counts
 *
 * Build: cc -O2 -o nfq-floor nfq-floor.c $(pkg-config --cflags --libs libmnl)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>

static volatile sig_atomic_t stop;
static void on_signal(int sig) { (void)sig; stop = 1; }

static struct mnl_socket *nl;
static unsigned int portid, seq;
static uint16_t queue_num;

static struct nlmsghdr *put_hdr(char *buf, int type, int flags) {
  struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = (NFNL_SUBSYS_QUEUE << 8) | type;
  nlh->nlmsg_flags = NLM_F_REQUEST | flags;
  nlh->nlmsg_seq = ++seq;
  struct nfgenmsg *nfg = mnl_nlmsg_put_extra_header(nlh, sizeof *nfg);
  nfg->nfgen_family = AF_UNSPEC;
  nfg->version = NFNETLINK_V0;
  nfg->res_id = htons(queue_num);
  return nlh;
}

static void config(struct nlmsghdr *nlh, const char *what) {
  char buf[MNL_SOCKET_BUFFER_SIZE];
  if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) { perror(what); exit(1); }
  ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof buf);
  if (n < 0 || mnl_cb_run(buf, n, nlh->nlmsg_seq, portid, NULL, NULL) < 0) { perror(what); exit(1); }
}

int main(int argc, char **argv) {
  if (argc < 2) { fprintf(stderr, "usage: %s QUEUE [REPEAT_MARK] [BATCH]\n", argv[0]); return 2; }
  queue_num = (uint16_t)atoi(argv[1]);
  uint32_t repeat = argc > 2 ? (uint32_t)strtoul(argv[2], NULL, 0) : 0x100000;
  int batch = argc > 3 ? atoi(argv[3]) : 256;
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);

  nl = mnl_socket_open(NETLINK_NETFILTER);
  if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) { perror("netlink"); return 1; }
  portid = mnl_socket_get_portid(nl);
  int fd = mnl_socket_get_fd(nl);
  int rcv = 8 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof rcv);

  char cbuf[MNL_SOCKET_BUFFER_SIZE];
  struct nlmsghdr *nlh = put_hdr(cbuf, NFQNL_MSG_CONFIG, NLM_F_ACK);
  struct nfqnl_msg_config_cmd cmd = {.command = NFQNL_CFG_CMD_BIND, .pf = htons(AF_INET)};
  mnl_attr_put(nlh, NFQA_CFG_CMD, sizeof cmd, &cmd);
  config(nlh, "bind");
  nlh = put_hdr(cbuf, NFQNL_MSG_CONFIG, NLM_F_ACK);
  struct nfqnl_msg_config_params params = {.copy_range = htonl(0xffff), .copy_mode = NFQNL_COPY_PACKET};
  mnl_attr_put(nlh, NFQA_CFG_PARAMS, sizeof params, &params);
  config(nlh, "params");
  nlh = put_hdr(cbuf, NFQNL_MSG_CONFIG, NLM_F_ACK);
  mnl_attr_put_u32(nlh, NFQA_CFG_QUEUE_MAXLEN, htonl(4096));
  config(nlh, "maxlen");
  nlh = put_hdr(cbuf, NFQNL_MSG_CONFIG, NLM_F_ACK);
  mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(NFQA_CFG_F_GSO | NFQA_CFG_F_FAIL_OPEN));
  mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(NFQA_CFG_F_GSO | NFQA_CFG_F_FAIL_OPEN));
  config(nlh, "flags");
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  fprintf(stderr, "nfq-floor: bound queue %u\n", queue_num);

  static char buf[0xffff + 4096];
  unsigned long long packets = 0, batches = 0, enobufs = 0;
  char vbuf[MNL_SOCKET_BUFFER_SIZE];
  while (!stop) {
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    if (poll(&pfd, 1, 200) <= 0) continue;
    uint32_t last_id = 0, last_mark = 0;
    int n = 0;
    while (n < batch) {
      ssize_t r = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
      if (r < 0) {
        if (errno == ENOBUFS) { enobufs++; continue; }
        break;
      }
      const struct nlmsghdr *m = (const struct nlmsghdr *)buf;
      int len = (int)r;
      for (; mnl_nlmsg_ok(m, len); m = mnl_nlmsg_next(m, &len)) {
        if (m->nlmsg_type != ((NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET)) continue;
        struct nlattr *a;
        uint32_t mark = 0;
        mnl_attr_for_each(a, m, sizeof(struct nfgenmsg)) {
          if (mnl_attr_get_type(a) == NFQA_PACKET_HDR)
            last_id = ntohl(((struct nfqnl_msg_packet_hdr *)mnl_attr_get_payload(a))->packet_id);
          else if (mnl_attr_get_type(a) == NFQA_MARK)
            mark = ntohl(mnl_attr_get_u32(a));
        }
        last_mark = mark | repeat;
        n++;
      }
    }
    if (n == 0) continue;
    packets += n;
    batches++;
    /* Every packet gets the same verdict and (for unmarked traffic) the same mark: one
     * batch verdict covers all ids up to the last one. */
    nlh = put_hdr(vbuf, NFQNL_MSG_VERDICT_BATCH, 0);
    struct nfqnl_msg_verdict_hdr vh = {.verdict = htonl(NF_REPEAT), .id = htonl(last_id)};
    mnl_attr_put(nlh, NFQA_VERDICT_HDR, sizeof vh, &vh);
    mnl_attr_put_u32(nlh, NFQA_MARK, htonl(last_mark));
    if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) perror("verdict");
  }
  fprintf(stderr, "nfq-floor: packets=%llu batches=%llu enobufs=%llu\n", packets, batches, enobufs);
  mnl_socket_close(nl);
  return 0;
}
