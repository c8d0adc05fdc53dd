# Build: docker compose build (or docker build -t fastpath .)
FROM maven:3.9-eclipse-temurin-17 AS build
WORKDIR /src
COPY . .
RUN mvn -B -q -DskipTests -pl service -am install

FROM eclipse-temurin:17-jre
# libpcap: live capture (serve --interface); curl: the compose healthchecks (GET /health);
# tcpreplay: the compose traffic source replays a generated capture with it.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpcap0.8 curl tcpreplay \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/service/target/service-0.1.0-SNAPSHOT.jar /opt/fastpath/fastpath.jar
COPY --from=build /src/service/target/lib /opt/fastpath/lib
EXPOSE 8080 25520
# The image runs serve above all: G1 with serve's tenuring threshold, as ./fastpath starts it
# (why: the comment there, and docs/benchmarks.md, "Re-measured 2026-12-03").
ENTRYPOINT ["java", "-XX:+UseG1GC", "-XX:MaxTenuringThreshold=2", \
            "-cp", "/opt/fastpath/fastpath.jar:/opt/fastpath/lib/*", "dev.fastpath.service.Main"]
