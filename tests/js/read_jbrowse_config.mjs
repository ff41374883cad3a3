// Reads a JBrowse 2 config.json the way JBrowse 2's adapters do, and prints what they would show, as JSON.
//
//   node read_jbrowse_config.mjs CONFIG.json QUERY.json
//
// QUERY: {"regions": [[refName, start, end], ...], "names": ["ALB", ...]} (0-based, half-open).
//
// Every URI is resolved against the config file's own URL (new URL(uri, baseUri)), as JBrowse Web does
// for a config it fetched, then opened with the library the JBrowse adapter uses:
//   ChromSizesAdapter  - the chrom.sizes text, split as plugin-sequence splits it (name TAB length)
//   FromConfigAdapter  - refNameAliases: refName -> aliases
//   BigBedAdapter      - @gmod/bbi BigBed, items parsed by @gmod/bed with the file's autoSql
//   BedTabixAdapter    - @gmod/tabix, items named by the header's last '#' line, else parsed with autoSql
//   BigWigAdapter      - @gmod/bbi BigWig at base resolution
// Colour and mouseover callbacks ("jexl:...") are evaluated per item with @jbrowse/jexl and JBrowse's
// get(feature, field) function. Nothing here is ShallowChrome code: the test compares this output with
// what pybbi, pyBigWig and pysam read from the same files.
import { readFileSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'

import { BigBed, BigWig } from '@gmod/bbi'
import BED from '@gmod/bed'
import { TabixIndexedFile } from '@gmod/tabix'
import { Jexl } from '@jbrowse/jexl'
import { LocalFile } from 'generic-filehandle2'

const [configPath, queryPath] = process.argv.slice(2)
const config = JSON.parse(readFileSync(configPath, 'utf8'))
const query = JSON.parse(readFileSync(queryPath, 'utf8'))
const baseUri = pathToFileURL(configPath).href

const jexl = new Jexl()
jexl.addFunction('get', (feature, field) => feature.get(field))

function resolve(location) {
  if (location.locationType !== 'UriLocation') {
    throw new Error(`not a UriLocation: ${JSON.stringify(location)}`)
  }
  const url = new URL(location.uri, location.baseUri ?? baseUri)
  return { uri: location.uri, url: url.href, path: fileURLToPath(url) }
}

function callback(value, feature) {
  if (typeof value !== 'string' || !value.startsWith('jexl:')) {
    return value
  }
  return jexl.compile(value.split('jexl:')[1]).eval({ feature })
}

function asFeature(data) {
  return { get: field => data[field] }
}

function displayCallbacks(track, data) {
  const display = track.displays?.[0] ?? {}
  const feature = asFeature(data)
  return {
    color: display.renderer ? callback(display.renderer.color1, feature) : undefined,
    mouseover: display.mouseover ? callback(display.mouseover, feature) : undefined,
  }
}

// JBrowse's featureData2: strand as -1/0/1, score as a number, the BED coordinates as start/end
function jbrowseFeature(data, refName, start, end) {
  const { chrom: _c, chromStart: _s, chromEnd: _e, strand, score, ...rest } = data
  const s = strand === '-' || strand === -1 ? -1 : strand === '+' || strand === 1 ? 1 : 0
  return { ...rest, score: score === undefined ? undefined : +score, strand: s, start, end, refName }
}

async function readBigBed(track, file) {
  const bb = new BigBed({ filehandle: new LocalFile(file.path) })
  const header = await bb.getHeader()
  const parser = new BED({ autoSql: header.autoSql })
  const regions = []
  for (const [refName, start, end] of query.regions) {
    const features = []
    if (refName in header.refsByName) {
      for (const f of await bb.getFeatures(refName, start, end)) {
        const line = [refName, `${f.start}`, `${f.end}`, ...(f.rest?.split('\t') ?? [])]
        const data = jbrowseFeature(parser.parseLine(line, { uniqueId: f.uniqueId }), refName, f.start, f.end)
        features.push({ ...data, ...displayCallbacks(track, data) })
      }
    }
    regions.push({ refName, start, end, features })
  }
  const search = {}
  for (const name of query.names ?? []) {
    // a bigBed without extra indexes (the right/wrong one) has no extension header to read
    if (!header.extHeaderOffset) { search[name] = null; continue }
    search[name] = (await bb.searchExtraIndex(name)).map(f => ({
      refName: f.refName ?? Object.keys(header.refsByName).find(k => header.refsByName[k] === f.chromId),
      start: f.start,
      end: f.end,
      name: f.rest?.split('\t')[0],
    }))
  }
  return {
    header: {
      fileType: header.fileType,
      fieldCount: header.fieldCount,
      definedFieldCount: header.definedFieldCount,
      zoomLevels: header.zoomLevels.length,
      refNames: Object.keys(header.refsByName),
      autoSqlFields: parser.autoSql.fields.map(f => f.name),
    },
    regions,
    search,
  }
}

async function readBedTabix(track, adapter) {
  const gz = resolve(adapter.bedGzLocation)
  const tbi = resolve(adapter.index.location)
  const file = new TabixIndexedFile({ filehandle: new LocalFile(gz.path), tbiFilehandle: new LocalFile(tbi.path) })
  const meta = await file.getMetadata()
  const headerText = await file.getHeader()
  const defline = headerText.split(/\n|\r\n|\r/).filter(f => !!f).at(-1)
  const names = adapter.columnNames?.length
    ? adapter.columnNames
    : defline?.includes('\t')
      ? defline.slice(1).split('\t').map(f => f.trim())
      : undefined
  const parser = new BED({ autoSql: adapter.autoSql || undefined })
  const { ref, start: colStart, end: colEnd } = meta.columnNumbers
  const regions = []
  const refNames = await file.getReferenceSequenceNames()
  for (const [refName, start, end] of query.regions) {
    const features = []
    if (refNames.includes(refName)) {
      await file.getLines(refName, start, end, {
        lineCallback: line => {
          const fields = line.split('\t')
          const data0 = names
            ? Object.fromEntries(names.map((n, i) => [n, fields[i]]).filter(([n]) => n))
            : parser.parseLine(fields)
          const s = Number.parseInt(fields[colStart - 1], 10)
          const e = Number.parseInt(fields[colEnd - 1], 10)
          const data = jbrowseFeature(data0, fields[ref - 1], s, e)
          features.push({ ...data, ...displayCallbacks(track, data) })
        },
      })
    }
    regions.push({ refName, start, end, features })
  }
  return {
    files: { bedGz: gz, index: tbi },
    header: { names: names ?? null, columnNumbers: meta.columnNumbers, refNames },
    regions,
  }
}

async function readBigWig(file) {
  const bw = new BigWig({ filehandle: new LocalFile(file.path) })
  const header = await bw.getHeader()
  const regions = []
  for (const [refName, start, end] of query.regions) {
    const features = refName in header.refsByName
      ? (await bw.getFeatures(refName, start, end)).map(f => ({ start: f.start, end: f.end, score: f.score }))
      : []
    regions.push({ refName, start, end, features })
  }
  return {
    header: {
      fileType: header.fileType,
      zoomLevels: header.zoomLevels.length,
      refNames: Object.keys(header.refsByName),
      totalSummary: header.totalSummary,
    },
    regions,
  }
}

async function readTrack(track) {
  const { adapter } = track
  const out = { trackId: track.trackId, type: track.type, adapterType: adapter.type }
  if (adapter.type === 'BigBedAdapter') {
    const file = resolve(adapter.bigBedLocation)
    return { ...out, files: { bigBed: file }, ...(await readBigBed(track, file)) }
  }
  if (adapter.type === 'BigWigAdapter') {
    const file = resolve(adapter.bigWigLocation)
    return { ...out, files: { bigWig: file }, ...(await readBigWig(file)) }
  }
  if (adapter.type === 'BedTabixAdapter') {
    return { ...out, ...(await readBedTabix(track, adapter)) }
  }
  throw new Error(`${track.trackId}: adapter ${adapter.type} is not read by this script`)
}

function readAssembly(assembly) {
  const { adapter } = assembly.sequence
  if (adapter.type !== 'ChromSizesAdapter') {
    throw new Error(`${assembly.name}: sequence adapter ${adapter.type} is not read by this script`)
  }
  const file = resolve(adapter.chromSizesLocation)
  // plugin-sequence's ChromSizesAdapter: trimmed non-empty lines, name TAB length
  const regions = readFileSync(file.path, 'utf8')
    .split(/\n|\r\n|\r/)
    .map(f => f.trim())
    .filter(f => !!f)
    .map(line => {
      const [refName, length] = line.split('\t')
      return { refName, start: 0, end: +length }
    })
  const aliasAdapter = assembly.refNameAliases?.adapter
  const aliases = aliasAdapter?.type === 'FromConfigAdapter'
    ? aliasAdapter.features.map(f => ({ refName: f.refName, aliases: f.aliases }))
    : []
  return { name: assembly.name, sequenceAdapter: adapter.type, files: { chromSizes: file }, regions, aliases }
}

const result = {
  assemblies: config.assemblies.map(readAssembly),
  tracks: [],
}
for (const track of config.tracks) {
  result.tracks.push(await readTrack(track))
}
process.stdout.write(JSON.stringify(result))
