/*
 * mock-broker: a single-broker Kafka cluster speaking the real wire protocol,
 * for tests on machines where no Kafka can run. It is librdkafka's built-in
 * mock cluster (rdkafka_mock.h) behind a tiny CLI:
 *
 *   mock-broker [--port N] [--partitions N] [--] TOPIC...
 *
 * Prints the bootstrap address ("127.0.0.1:PORT") as the first stdout line,
 * then serves until SIGTERM/SIGINT (or until its parent process dies).
 *
 * Fault injection: each stdin line "errors API COUNT CODE" makes the next
 * COUNT requests of Kafka API key API (0 = Produce) fail with error code CODE
 * (e.g. "errors 0 2 10": two MESSAGE_TOO_LARGE produce answers); the broker
 * answers "ok" (or "error: ...") on stdout once the errors are queued.
 * Built by build.sh, which links with -Wl,--wrap=bind,--wrap=getsockname
 * (see decoy_fd and __wrap_bind).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "rdkafka.h"
#include "rdkafka_mock.h"

/* Kafka API keys whose versions are capped, see cap_api_versions(). */
enum { API_JOIN_GROUP = 11, API_LEAVE_GROUP = 13, API_SYNC_GROUP = 14, API_CONSUMER_GROUP_HEARTBEAT = 68 };

enum { BROKER_ID = 1 }; /* rd_kafka_mock_cluster_new numbers brokers from 1 */

static uint16_t fixed_port; /* 0 = let the kernel pick */

/*
 * The listener a client may reach must not exist before the topics do: a
 * client retrying across a restart that gets "unknown topic" from the new
 * broker fails for good (@platformatic/kafka treats UNKNOWN_TOPIC_OR_PART as
 * a non-retryable UserError). rd_kafka_mock_cluster_new() binds AND listens
 * at once, before any topic can be created, so with --port the startup
 * listener is a decoy on an ephemeral port (decoy_fd); the broker advertises
 * the pinned port all the same, and configure_cluster() moves the listener
 * onto it (broker down = re-bind without listening, broker up = listen) only
 * once the topics exist. Until then the pinned port refuses connections,
 * which clients retry like any outage.
 */
static int decoy_fd = -1;

/*
 * librdkafka has no option for the mock listener's port: it always binds
 * 127.0.0.1:0, then reads the port back with getsockname() and re-binds that
 * port when a broker is set down. The linker redirects both calls here
 * (build.sh: --wrap=bind,--wrap=getsockname).
 */
int __real_bind(int fd, const struct sockaddr *addr, socklen_t len);
int __wrap_bind(int fd, const struct sockaddr *addr, socklen_t len) {
    if (fixed_port == 0 || addr->sa_family != AF_INET || len < sizeof(struct sockaddr_in))
        return __real_bind(fd, addr, len);
    struct sockaddr_in sin;
    memcpy(&sin, addr, sizeof(sin));
    if (sin.sin_port == 0) { /* the startup listener: an ephemeral decoy */
        int r = __real_bind(fd, addr, len);
        if (r == 0) decoy_fd = fd;
        return r;
    }
    /* The re-bind of the advertised (pinned) port ends the decoy phase. */
    decoy_fd = -1;
    if (__real_bind(fd, addr, len) == 0) return 0;
    /* Exit here: librdkafka's own failure path asserts and aborts. */
    fprintf(stderr, "mock-broker: cannot listen on port %u: %s\n", fixed_port, strerror(errno));
    _exit(1);
}

int __real_getsockname(int fd, struct sockaddr *addr, socklen_t *len);
int __wrap_getsockname(int fd, struct sockaddr *addr, socklen_t *len) {
    int r = __real_getsockname(fd, addr, len);
    if (r == 0 && fd == decoy_fd && addr->sa_family == AF_INET) /* advertise the pinned port */
        ((struct sockaddr_in *)addr)->sin_port = htons(fixed_port);
    return r;
}

static void usage_exit(const char *why) {
    fprintf(stderr, "mock-broker: %s\nusage: mock-broker [--port N] [--partitions N] [--] TOPIC...\n", why);
    exit(2);
}

static long parse_int(const char *s, long min, long max, const char *what) {
    char *end;
    errno = 0;
    long v = s ? strtol(s, &end, 10) : 0;
    if (!s || errno || *end || v < min || v > max) usage_exit(what);
    return v;
}

/*
 * librdkafka 2.12's mock thread drains its wake-up pipe after serving control
 * ops, so a control call issued within microseconds of the previous one can
 * lose its wake-up and wait for the thread's 1 s poll timeout (measured: 11
 * of 40 back-to-back calls). A short pause before each call avoids that.
 */
static void settle(void) {
    struct timespec pause = {.tv_sec = 0, .tv_nsec = 1000 * 1000};
    nanosleep(&pause, NULL);
}

/*
 * @platformatic/kafka 2.x picks the highest version both sides support and
 * misparses the mock's responses to newer consumer-group APIs; KIP-848
 * (ConsumerGroupHeartbeat) is switched off entirely so it uses the classic
 * JoinGroup/SyncGroup protocol.
 */
static void cap_api_versions(rd_kafka_mock_cluster_t *mcluster) {
    static const struct { int16_t api, min, max; } caps[] = {
        {API_JOIN_GROUP, 0, 5},
        {API_SYNC_GROUP, 0, 3},
        {API_LEAVE_GROUP, 0, 2},
        {API_CONSUMER_GROUP_HEARTBEAT, -1, -1},
    };
    for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
        settle();
        rd_kafka_mock_set_apiversion(mcluster, caps[i].api, caps[i].min, caps[i].max);
    }
}

/* Returns 0, or prints why and returns -1. */
static int configure_cluster(rd_kafka_mock_cluster_t *mcluster, char **topics, int topic_cnt, int partitions) {
    cap_api_versions(mcluster);
    /* Tests start one consumer per group; don't make it wait 3 s for others. */
    settle();
    rd_kafka_mock_group_initial_rebalance_delay_ms(mcluster, 0);
    for (int i = 0; i < topic_cnt; i++) {
        settle();
        rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(mcluster, topics[i], partitions, 1);
        if (err) {
            fprintf(stderr, "mock-broker: create topic %s: %s\n", topics[i], rd_kafka_err2str(err));
            return -1;
        }
    }
    /* Only now open the advertised port (see decoy_fd): down re-binds it
     * without listening, up starts listening. */
    settle();
    rd_kafka_mock_broker_set_down(mcluster, BROKER_ID);
    settle();
    rd_kafka_mock_broker_set_up(mcluster, BROKER_ID);
    return 0;
}

/* Reads "errors API COUNT CODE" lines from stdin (see the header comment). */
static void *command_loop(void *arg) {
    rd_kafka_mock_cluster_t *mcluster = arg;
    char line[256];
    while (fgets(line, sizeof(line), stdin)) {
        int api, count, code;
        if (sscanf(line, "errors %d %d %d", &api, &count, &code) == 3 && api >= 0 && count >= 1 &&
            count <= 1000) {
            rd_kafka_resp_err_t errs[1000];
            for (int i = 0; i < count; i++) errs[i] = (rd_kafka_resp_err_t)code;
            settle();
            rd_kafka_mock_push_request_errors_array(mcluster, (int16_t)api, (size_t)count, errs);
            printf("ok\n");
        } else {
            printf("error: expected \"errors API COUNT CODE\"\n");
        }
        fflush(stdout);
    }
    return NULL;
}

int main(int argc, char **argv) {
    int partitions = 3;
    int argi = 1;
    for (; argi < argc && strncmp(argv[argi], "--", 2) == 0; argi++) {
        if (strcmp(argv[argi], "--") == 0) { /* end of options: topics follow */
            argi++;
            break;
        }
        if (strcmp(argv[argi], "--port") == 0)
            fixed_port = (uint16_t)parse_int(argv[++argi], 0, 65535, "--port needs 0..65535");
        else if (strcmp(argv[argi], "--partitions") == 0)
            partitions = (int)parse_int(argv[++argi], 1, 1000, "--partitions needs 1..1000");
        else
            usage_exit("unknown option");
    }

    /* A test runner that crashes must not leave brokers holding ports. */
    prctl(PR_SET_PDEATHSIG, SIGTERM);

    /* Block the stop signals before librdkafka starts threads (they inherit
     * the mask) so only sigwait() below receives them. */
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);

    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    /* The handle only hosts the mock cluster; it never talks to a broker. */
    rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof(errstr));
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (!rk) {
        fprintf(stderr, "mock-broker: rd_kafka_new: %s\n", errstr);
        return 1;
    }

    rd_kafka_mock_cluster_t *mcluster = rd_kafka_mock_cluster_new(rk, 1);
    if (!mcluster) {
        fprintf(stderr, "mock-broker: cannot create mock cluster\n");
        rd_kafka_destroy(rk);
        return 1;
    }
    if (configure_cluster(mcluster, argv + argi, argc - argi, partitions) != 0) {
        rd_kafka_mock_cluster_destroy(mcluster);
        rd_kafka_destroy(rk);
        return 1;
    }

    printf("%s\n", rd_kafka_mock_cluster_bootstraps(mcluster));
    fflush(stdout);

    /* Detached: it ends with the process (stdin closed or not). */
    pthread_t commands;
    if (pthread_create(&commands, NULL, command_loop, mcluster) == 0) pthread_detach(commands);

    int sig;
    sigwait(&stop_signals, &sig);

    settle();
    rd_kafka_mock_cluster_destroy(mcluster);
    rd_kafka_destroy(rk);
    return 0;
}
