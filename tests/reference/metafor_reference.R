# Reference values for leftbehind.meta from R metafor (issue 15 item 2).
#
# Run from the repository root:  Rscript tests/reference/metafor_reference.R
# It writes tests/reference/metafor_reference.json, which tests/test_meta_metafor.py reads (CI needs no R).
# Needs R with metafor (Debian: apt-get install r-cran-metafor, which brings metadat and jsonlite).
# Convergence is tight, because metafor's defaults stop REML and Paule-Mandel early:
# control = list(threshold = 1e-12, tol = 1e-14, maxiter = 10000).
suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})

CTRL <- list(threshold = 1e-12, tol = 1e-14, maxiter = 10000)
METHODS <- c("FE", "DL", "PM", "REML")
TESTS <- c(z = "z", knha = "knha")
num <- function(x) if (is.null(x)) NA_real_ else as.numeric(x)

fit_values <- function(res) {
  pr <- predict(res)
  list(
    estimate = num(res$b[1]), se = num(res$se[1]), ci_low = num(res$ci.lb[1]), ci_high = num(res$ci.ub[1]),
    z_or_t = num(res$zval[1]), pval = num(res$pval[1]), tau2 = num(res$tau2), I2 = num(res$I2),
    H2 = num(res$H2), Q = num(res$QE), Q_pval = num(res$QEp),
    pi_low = if (res$method == "FE") NA_real_ else num(pr$pi.lb),
    pi_high = if (res$method == "FE") NA_real_ else num(pr$pi.ub)
  )
}

rows_of <- function(x, cols) {
  lapply(seq_len(nrow(x)), function(i) setNames(lapply(cols, function(c) num(x[[c]][i])), cols))
}

one_dataset <- function(name, dat, labels, order, mods, by) {
  out <- list(name = name, yi = as.numeric(dat$yi), vi = as.numeric(dat$vi), labels = labels, order = order,
              fits = list(), moderators = list(), subgroups = list(), leave1out = list(), cumul = list())
  for (m in METHODS) for (t in names(TESTS)) {
    res <- rma(yi, vi, data = dat, method = m, test = TESTS[[t]], control = CTRL)
    key <- paste(m, t, sep = "_")
    out$fits[[key]] <- fit_values(res)
    l1 <- leave1out(res)
    out$leave1out[[key]] <- rows_of(as.data.frame(l1), c("estimate", "se", "ci.lb", "ci.ub", "tau2", "I2", "Q"))
    cu <- cumul(res, order = order)
    out$cumul[[key]] <- rows_of(as.data.frame(cu), c("estimate", "se", "ci.lb", "ci.ub", "tau2", "I2", "Q"))
    # subgroups: each level fitted on its own, then a fixed-effect Q on the subgroup estimates
    lv <- sort(unique(dat[[by]]))
    sub <- lapply(lv, function(g) {
      r <- rma(yi, vi, data = dat, subset = dat[[by]] == g, method = m, test = TESTS[[t]], control = CTRL)
      c(fit_values(r), k = r$k)
    })
    names(sub) <- lv
    est <- sapply(sub, function(s) s$estimate)
    se <- sapply(sub, function(s) s$se)
    qb <- rma(est, sei = se, method = "FE")
    out$subgroups[[key]] <- list(by = by, groups = sub, Q_between = num(qb$QE), Q_between_pval = num(qb$QEp))
    for (mn in names(mods)) {
      r <- rma(yi, vi, mods = mods[[mn]], data = dat, method = m, test = TESTS[[t]], control = CTRL)
      out$moderators[[mn]][[key]] <- list(
        formula = deparse(mods[[mn]]), coef_names = rownames(r$b),
        coef = as.numeric(r$b), se = as.numeric(r$se), ci_low = as.numeric(r$ci.lb), ci_high = as.numeric(r$ci.ub),
        z_or_t = as.numeric(r$zval), pval = as.numeric(r$pval), QM = num(r$QM), QM_pval = num(r$QMp),
        QE = num(r$QE), QE_pval = num(r$QEp), tau2 = num(r$tau2), I2 = num(r$I2), H2 = num(r$H2),
        R2 = if (m == "FE") NA_real_ else num(r$R2)
      )
    }
  }
  res <- rma(yi, vi, data = dat, method = "FE")
  eg <- regtest(res, model = "lm", predictor = "sei")
  cf <- coef(summary(eg$fit))
  out$egger <- list(t = num(eg$zval), pval = num(eg$pval), df = num(eg$dfs),
                    intercept = num(cf["Xsei", "Estimate"]), intercept_se = num(cf["Xsei", "Std. Error"]),
                    slope = num(cf["Xintrcpt", "Estimate"]), slope_se = num(cf["Xintrcpt", "Std. Error"]))
  out
}

bcg <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
molloy <- escalc(measure = "ZCOR", ri = ri, ni = ni, data = dat.molloy2014)
raud <- dat.raudenbush1985
konst <- dat.konstantopoulos2011

ref <- list(
  R = R.version.string,
  metafor = as.character(packageVersion("metafor")),
  metadat = as.character(packageVersion("metadat")),
  control = CTRL,
  datasets = list(
    one_dataset("dat.bcg", bcg, paste(bcg$author, bcg$year), bcg$year,
                list(ablat_year = ~ ablat + year, alloc = ~ factor(alloc)), "alloc"),
    one_dataset("dat.molloy2014", molloy, paste(molloy$authors, molloy$year), molloy$year,
                list(meanage = ~ meanage, controls_design = ~ factor(controls) + factor(design)), "design"),
    one_dataset("dat.raudenbush1985", raud, paste(raud$author, raud$year), raud$year,
                list(weeks = ~ weeks, tester_setting = ~ factor(tester) + factor(setting)), "tester"),
    one_dataset("dat.konstantopoulos2011", konst, paste(konst$district, konst$school), konst$year,
                list(year = ~ year), "district")
  )
)
# moderator columns used above, so that Python can build the same design matrices
ref$datasets[[1]]$columns <- list(ablat = bcg$ablat, year = bcg$year, alloc = bcg$alloc)
ref$datasets[[2]]$columns <- list(meanage = molloy$meanage, controls = molloy$controls, design = molloy$design)
ref$datasets[[3]]$columns <- list(weeks = raud$weeks, tester = raud$tester, setting = raud$setting)
ref$datasets[[4]]$columns <- list(year = konst$year, district = konst$district)
write_json(ref, "tests/reference/metafor_reference.json", digits = NA, auto_unbox = TRUE, na = "null", pretty = TRUE)
