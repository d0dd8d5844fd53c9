/// Every message Concord writes for people, by key: one catalog per language (`Catalog+English`,
/// `Catalog+Persian`, `Catalog+Russian`), checked by `CatalogCheck` to hold the same keys, each used.
public enum Key: String, CaseIterable, Sendable {
    case none
    case synthetic
    case syntheticMark
    case session
    case sessionAsOf
    case colSession
    case colDate
    case colPlace
    case colHost
    case colSummary
    case colRole
    case colName
    case colLocalName
    case colTitle
    case colPosition
    case colCode
    case colKind
    case colLocalNames
    case colCapital
    case colStatus
    case colSigned
    case colInForce
    case colDue
    case colDone
    case colOwner
    case colCategory
    case colRaisedAt
    case colOpen
    case colOverdue
    case colItem
    case atSession
    case overdueOn
    case actionWithStatus
    case blockedByList
    case coChairs
    case itemsAgreed
    case asOf
    case overdueChip
    case overdueUpper
    case openLabel
    case dueOn
    case noDueDate
    case blockedBy
    case blockedByLower
    case actionsOfSession
    case obstaclesRaised
    case trade
    case noFigureStated
    case statedLine
    case statedLabel
    case spanAgainst
    case byWhom
    case computedLabel
    case noObservations
    case indicatorsBound
    case indicatorTarget
    case indicatorTargetBy
    case indicatorBaseline
    case indicatorActual
    case indicatorNoActual
    case onBaselinePeriod
    case monthsMissingCount
    case missingFromBrief
    case footer
    case briefSuffix
    case chartCaption
    case chartLabel
    case noMonthlyData
    case statedLegend
    case computedLegend
    case capital
    case partnerships
    case instrumentsParty
    case actionsOwned
    case noneRecorded
    case since
    case noRegionTrade
    case regionObservations
    case actionsCount
    case noFigure
    case likeForLike
    case sumsAgainst
    case leftOut
    case leftOutCurrent
    case leftOutBase
    case leftOutBoth
    case monthsMissingList
    case reasonNoCommonMonth
    case reasonSpansDiffer
    case reasonZeroBase
    case reasonNoData
    case besideStated
    case statedBySource
    case noteLine
    case growthAllHeader
    case colSeries
    case colChange
    case colNow
    case colThen
    case colSourceMissing
    case morePages
    case monthsShort
    case monthsShortLegend
    case notRanked
    case missingMonths
    case mirrorHeader
    case mirrorBoth
    case mirrorOverCompared
    case usd
    case mirrorExports
    case mirrorImports
    case mirrorGap
    case mirrorRatio
    case mirrorOnly
    case mirrorMargin
    case noObservationsMonths
    case spanOfMonths
    case colSince
    case colWith
    case colInstrument
    case colAction
    case colBlocks
    case colObstacle
    case actionsOwnedOverdueFirst
    case tradeNoSource
    case tradeObservations
    case missingPart
    case overdueByOwner
    case today
    case openObstaclesBlocking
    case doctorNone
    case doctorTitle
    case colNamedIn
    case colRecord
    case colNamedBy
    case recordsCount
    case unknownOfficial
    case watchWatching
    case watchCreated
    case watchUpdated
    case watchDeleted
    case watchChanged
    case watchUnavailable
    case watchResync
    case watchReconnecting
    case consoleTitle
    case signInTitle
    case signInName
    case signInPassword
    case signInFailed
    case signInLocked
    case signOut
    case signedInAs
    case roleReader
    case roleSecretariat
    case roleAdmin
    case overviewTitle
    case overviewOverdue
    case overviewNoOverdue
    case overviewObstacles
    case overviewNoObstacles
    case overviewLatestSession
    case partUnavailable
    case formExpired
    case languageLabel
    case actionProgressTitle
    case progressLabel
    case dateLabel
    case noteLabel
    case recordButton
    case timelineTitle
    case openActionsTitle
    case recentChangesTitle
    case colWho
    case colWhat
    case writeRefused
    case liveLost
    case digestTitle
    case digestMoved
    case digestProgress
    case digestBecameOverdue
    case digestRaised
    case digestResolved
    case digestTrade
    case digestNothing
    case digestMovedLine
    case digestProgressLine
    case digestOverdueLine
    case digestTradeLine
    case observationsCount
}

/// The lists of codes whose labels are translated; the codes stay codes on the wire and in `--json`.
public enum Vocabulary: String, CaseIterable, Sendable {
    case instrumentStatus
    case instrumentKind
    case sector
    case obstacleCategory
    case obstacleStatus
    case actionStatus
    case attendanceRole
    case regionKind
    case partyRole
    case flow
}

/// The catalogs. English labels of codes are the codes themselves.
public enum Catalog {
    public static func messages(_ language: Language) -> [Key: String] {
        switch language {
        case .en: Self.english
        case .fa: Self.persian
        case .ru: Self.russian
        }
    }

    public static func vocabularies(_ language: Language) -> [Vocabulary: [String: String]] {
        switch language {
        case .en: [:]
        case .fa: Self.persianLabels
        case .ru: Self.russianLabels
        }
    }
}
