# Small multi-stage build: a static binary on a minimal base.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /switchboard ./cmd/switchboard

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /switchboard /switchboard
ENV SWITCHBOARD_ADDR=:8080 SWITCHBOARD_DATA=/data
VOLUME /data
EXPOSE 8080
ENTRYPOINT ["/switchboard"]
CMD ["serve"]
